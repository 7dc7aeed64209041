// Smoke test of the reproductions: each runs at its quick size on wasm and returns a complete RESULTS.md
// section (heading, command, measured table, date and machine, verdict) without leaking tensors.
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { expectNoLeakedTensors } from '@moekit/core/testing';
import { leaveWasmTestBackend, useWasmTestBackend } from '@moekit/platform/testing';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listReproductions } from './discover-modules.js';

const dir = join(dirname(fileURLToPath(import.meta.url)), 'reproductions');

beforeAll(useWasmTestBackend);
afterAll(leaveWasmTestBackend);

describe('the reproductions (quick)', () => {
  it('are discovered by file name', () => {
    expect(listReproductions(dir)).toEqual(expect.arrayContaining(['cnn-interpretability', 'eom-fom', 'expert-pruning', 'mixture-of-attention', 'mixture-of-models', 'scmoe', 'shared-experts', 'shazeer-lstm-moe', 'sparse-mixer', 'spatial-moe', 'switch-nerf', 'vmoe-bpr']));
  });

  for (const name of listReproductions(dir)) {
    it(`${name} returns its section at the quick size`, async () => {
      const module = (await import(join(dir, `${name}.ts`))) as { run(options: { quick: boolean }): Promise<string> };
      let section = '';
      await expectNoLeakedTensors(async () => { section = await module.run({ quick: true }); }); // twice: the first primes lazily built constants
      expect(section).toMatch(/^## \S/);
      expect(section).toContain(`npm run reproduce -- ${name} --quick`);
      expect(section).toMatch(/\n\|[^\n]+\|\n\|[-:| ]+\|\n\|/); // a measured table
      expect(section).toMatch(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z/); // the run's date
      expect(section).toContain(`${cpus().length} cores`); // the machine
      expect(section).toContain(cpus()[0]!.model.trim());
      expect(section).toContain('wasm'); // the backend
      expect(section).toMatch(/Verdict:?\**:? *(holds|does not (fully )?hold)/i);
      expect(section).not.toMatch(/NaN|undefined/);
    }, 240_000);
  }
});
