// Saves must survive the process dying at any instant, and two processes saving into one folder at
// once. A child `node` process saves a model through this package's source (transpiled once into a
// scratch folder, so each child starts in a fraction of a second) and SIGKILLs itself just before
// its k-th file operation that changes the folder (opening for writing, writing, renaming, deleting…:
// fs/promises functions and FileHandle methods are wrapped),
// for every k; the folder must then load and equal, byte for byte, the old model or the new one.
import * as tf from '@tensorflow/tfjs-core';
import { spawn } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileSystem } from './file-system.js';

const require = createRequire(import.meta.url);
const packagesRoot = fileURLToPath(new URL('../../..', import.meta.url));
const coreErrors = join(packagesRoot, 'core/src/util/errors.ts');

/** A model whose weights are `seed · 1000 + i` for `i < 1000 · (seed + 2)`: each seed has its own size. */
function artifacts(seed: number): tf.io.ModelArtifacts {
  const weights = Float32Array.from({ length: 1000 * (seed + 2) }, (_, i) => seed * 1000 + i);
  return {
    modelTopology: { class_name: 'Fixture', config: { seed } },
    format: 'layers-model',
    generatedBy: 'file-system-crash.test',
    weightSpecs: [{ name: 'w', shape: [weights.length], dtype: 'float32' }],
    weightData: weights.buffer,
  };
}

/** Loads `dir` and returns the seed it holds after checking its weights byte for byte. */
async function loadedSeed(dir: string): Promise<number> {
  const loaded = await fileSystem(dir).load!();
  const seed = (loaded.modelTopology as { config: { seed: number } }).config.seed;
  const expected = new Uint8Array(artifacts(seed).weightData as ArrayBuffer);
  expect(new Uint8Array(loaded.weightData as ArrayBuffer)).toEqual(expected);
  return seed;
}

const child = (handlerUrl: string) => `
import fsp from 'node:fs/promises';
import { syncBuiltinESMExports } from 'node:module';
const [dir, seed, killAt, rounds] = process.argv.slice(2).map((a, i) => (i === 0 ? a : Number(a)));
let ops = 0;
const step = () => { ops += 1; if (ops === killAt) process.kill(process.pid, 'SIGKILL'); };
const probe = await fsp.open(process.execPath, 'r');
const handle = Object.getPrototypeOf(probe);
await probe.close();
const { O_WRONLY, O_RDWR, O_CREAT } = fsp.constants;
const writes = (flags) => (typeof flags === 'number' ? (flags & (O_WRONLY | O_RDWR | O_CREAT)) !== 0 : /[wa+]/.test(flags ?? 'r'));
const wrap = (target, names) => { for (const name of names) { const original = target[name]; if (typeof original === 'function') target[name] = function (...args) { if (name !== 'open' || writes(args[1])) step(); return original.apply(this, args); }; } };
wrap(fsp, ['open', 'writeFile', 'appendFile', 'rename', 'unlink', 'rm', 'rmdir', 'mkdir', 'copyFile', 'link', 'symlink', 'truncate']);
wrap(handle, ['write', 'writeFile', 'appendFile', 'truncate']);
syncBuiltinESMExports();
const { fileSystem } = await import(${JSON.stringify(handlerUrl)});
const weights = Float32Array.from({ length: 1000 * (seed + 2) }, (_, i) => seed * 1000 + i);
const artifacts = { modelTopology: { class_name: 'Fixture', config: { seed } }, format: 'layers-model', generatedBy: 'file-system-crash.test', weightSpecs: [{ name: 'w', shape: [weights.length], dtype: 'float32' }], weightData: weights.buffer };
for (let round = 0; round < rounds; round++) await fileSystem(dir).save(artifacts);
process.stdout.write(JSON.stringify({ ops }));
`;

/**
 * Transpiles `entry` and the relative imports it reaches into `outDir` (same layout under the
 * packages folder), pointing `@tensorflow/tfjs-core` at the installed package and `@moekit/core` at
 * core's error classes (all the file code needs from it). Returns the entry's URL.
 */
function transpile(entry: string, outDir: string): string {
  const ts = require('typescript') as typeof import('typescript');
  const tfjsCore = pathToFileURL(require.resolve('@tensorflow/tfjs-core')).href;
  const out = (file: string) => join(outDir, relative(packagesRoot, file)).replace(/\.ts$/, '.js');
  const pending = [entry, coreErrors];
  const done = new Set<string>();
  while (pending.length > 0) {
    const file = pending.pop()!;
    if (done.has(file)) continue;
    done.add(file);
    let source = ts.transpileModule(readFileSync(file, 'utf8'), {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
    }).outputText;
    source = source.replace(/(from\s+|import\()(['"])([^'"]+)\2/g, (match, head: string, quote: string, specifier: string) => {
      if (specifier === '@tensorflow/tfjs-core') return `${head}${quote}${tfjsCore}${quote}`;
      if (specifier === '@moekit/core') return `${head}${quote}${pathToFileURL(out(coreErrors)).href}${quote}`;
      if (specifier.startsWith('.')) pending.push(resolve(dirname(file), specifier.replace(/\.js$/, '.ts')));
      return match;
    });
    mkdirSync(dirname(out(file)), { recursive: true });
    writeFileSync(out(file), source);
  }
  writeFileSync(join(outDir, 'package.json'), '{ "type": "module" }');
  return pathToFileURL(out(entry)).href;
}

/** Runs the child; resolves with its signal and what it printed. */
function runChild(script: string, args: (string | number)[]): Promise<{ signal: string | null; code: number | null; stdout: string; stderr: string }> {
  const proc = spawn(process.execPath, [script, ...args.map(String)], { stdio: ['ignore', 'pipe', 'pipe'], timeout: 20_000 });
  let stdout = '';
  let stderr = '';
  proc.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  proc.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((done, fail) => {
    proc.on('error', fail);
    proc.on('close', (code, signal) => done({ code, signal, stdout, stderr }));
  });
}

/** Runs `tasks` at most `width` at a time. */
async function limited<T>(tasks: (() => Promise<T>)[], width: number): Promise<T[]> {
  const results: T[] = [];
  let next = 0;
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < tasks.length) {
      const index = next++;
      results[index] = await tasks[index]!();
    }
  }));
  return results;
}

let scratch: string;
let script: string;

beforeAll(() => {
  scratch = mkdtempSync(join(tmpdir(), 'moekit-crash-'));
  const handlerUrl = transpile(fileURLToPath(new URL('./file-system.ts', import.meta.url)), join(scratch, 'build'));
  script = join(scratch, 'child.mjs');
  writeFileSync(script, child(handlerUrl));
});

afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('fileSystem() when the saving process is killed', () => {
  it('leaves the old model or the new one, byte for byte, wherever the kill lands; the next save cleans up', async () => {
    const base = join(scratch, 'base');
    await fileSystem(base).save!(artifacts(1));
    cpSync(base, join(scratch, 'count'), { recursive: true });
    const full = await runChild(script, [join(scratch, 'count'), 2, 0, 1]);
    expect(full.stderr).toBe('');
    const { ops } = JSON.parse(full.stdout) as { ops: number };
    expect(ops).toBeGreaterThanOrEqual(5); // at least: create the folder, write two files, one rename, delete the old weights
    const dirs = Array.from({ length: ops }, (_, index) => join(scratch, `kill-${index + 1}`));
    const outcomes = await limited(dirs.map((dir, index) => async () => {
      cpSync(base, dir, { recursive: true });
      const run = await runChild(script, [dir, 2, index + 1, 1]);
      expect({ signal: run.signal, stderr: run.stderr }).toEqual({ signal: 'SIGKILL', stderr: '' });
      return loadedSeed(dir).catch((error: Error) => `killed before operation ${index + 1}: ${error.message}`);
    }), 3);
    expect(outcomes.filter((outcome) => typeof outcome === 'string')).toEqual([]);
    // Killed before its commit the folder holds the old model, after it (deleting the old weights) the new one.
    expect(outcomes[0]).toBe(1);
    expect(outcomes.at(-1)).toBe(2);
    expect(await loadedSeed(join(scratch, 'count'))).toBe(2);
    // The next save in a live process removes whatever the killed one left behind.
    for (const dir of dirs) {
      await fileSystem(dir).save!(artifacts(3));
      expect(await loadedSeed(dir)).toBe(3);
      expect(readdirSync(dir).filter((name) => name !== 'model.json')).toEqual([expect.stringMatching(/^weights-.*\.bin$/)]);
    }
  }, 60_000);
});

describe('fileSystem() with two processes saving into one folder at once', () => {
  it('leaves one of the two models, complete and loadable', async () => {
    const dir = join(scratch, 'shared');
    const runs = await Promise.all([runChild(script, [dir, 4, 0, 8]), runChild(script, [dir, 5, 0, 8])]);
    expect(runs.map((run) => ({ code: run.code, stderr: run.stderr }))).toEqual([{ code: 0, stderr: '' }, { code: 0, stderr: '' }]);
    expect([4, 5]).toContain(await loadedSeed(dir));
    await fileSystem(dir).save!(artifacts(6));
    expect(await loadedSeed(dir)).toBe(6);
    expect(readdirSync(dir).length).toBe(2); // model.json and its weights
  }, 60_000);
});
