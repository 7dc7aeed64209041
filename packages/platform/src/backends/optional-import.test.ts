import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { errorLine, importOptional } from './optional-import.js';

const scratch = mkdtempSync(join(tmpdir(), 'moekit-optional-import-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('importOptional', () => {
  it('loads what is installed', async () => {
    const result = await importOptional<typeof import('node:path')>('node:path');
    expect(result.status).toBe('loaded');
    expect(result.status === 'loaded' && result.module.join('a', 'b')).toBe(join('a', 'b'));
  });

  it('reports a package that is not installed as missing', async () => {
    expect(await importOptional('@tensorflow/tfjs-node')).toEqual({ status: 'missing' });
  });

  it('reports a module that is present but throws while loading as failed, with its message', async () => {
    // Like tfjs-node installed without its native binding: resolvable, but importing it throws.
    const broken = join(scratch, 'broken.mjs');
    writeFileSync(broken, "throw new Error('libtensorflow.so.2: cannot open shared object file\\nmore detail');\n");
    expect(await importOptional(broken)).toEqual({ status: 'failed', error: 'libtensorflow.so.2: cannot open shared object file' });
  });
});

describe('errorLine', () => {
  it('keeps the first line of an error or value', () => {
    expect(errorLine(new Error('first\nsecond'))).toBe('first');
    expect(errorLine('plain')).toBe('plain');
  });
});
