import * as tf from '@tensorflow/tfjs-core';
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { fileSystem } from './file-system.js';

const scratch = mkdtempSync(join(tmpdir(), 'moekit-files-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
let folders = 0;
const folder = () => join(scratch, `m${folders++}`);

/** A model whose weights are `seed · 1000 + i` for `i < 100 · (seed + 2)`: each seed has its own size. */
function artifacts(seed: number): tf.io.ModelArtifacts {
  const weights = Float32Array.from({ length: 100 * (seed + 2) }, (_, i) => seed * 1000 + i);
  return {
    modelTopology: { class_name: 'Fixture', config: { seed } },
    format: 'layers-model',
    generatedBy: 'file-system.test',
    weightSpecs: [{ name: 'w', shape: [weights.length], dtype: 'float32' }],
    weightData: weights.buffer,
  };
}

/** Loads `dir` and returns the seed it holds after checking its weights byte for byte. */
async function loadedSeed(dir: string): Promise<number> {
  const loaded = await fileSystem(dir).load!();
  const seed = (loaded.modelTopology as { config: { seed: number } }).config.seed;
  expect(new Uint8Array(loaded.weightData as ArrayBuffer)).toEqual(new Uint8Array(artifacts(seed).weightData as ArrayBuffer));
  return seed;
}

/** Writes `model.json` + `weights.bin` the way the first release of `fileSystem` did. */
function writeFirstFormat(dir: string, seed: number, path = './weights.bin'): void {
  const model = artifacts(seed);
  const weights = new Uint8Array(model.weightData as ArrayBuffer);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'weights.bin'), weights);
  writeFileSync(join(dir, 'model.json'), JSON.stringify({
    modelTopology: model.modelTopology, format: model.format, generatedBy: model.generatedBy, convertedBy: null,
    weightsManifest: [{ paths: [path], weights: model.weightSpecs }],
    moekitWeights: { bytes: weights.byteLength, sha256: createHash('sha256').update(weights).digest('hex') },
  }));
}

describe('fileSystem() files', () => {
  it('round-trips a model as model.json and one weights file', async () => {
    const dir = folder();
    const result = await fileSystem(dir).save!(artifacts(1));
    expect(result.modelArtifactsInfo.weightDataBytes).toBe(1200); // 300 float32
    expect(await loadedSeed(dir)).toBe(1);
    expect(readdirSync(dir).sort()).toEqual(['model.json', expect.stringMatching(/^weights-[0-9a-f]+(-\d+)+-[0-9a-f]{32}\.bin$/)]);
  });

  it('loads folders saved in the first format (model.json + weights.bin), and replaces them on save', async () => {
    const dir = folder();
    writeFirstFormat(dir, 2);
    expect(await loadedSeed(dir)).toBe(2);
    writeFirstFormat(dir, 3, 'weights.bin'); // tfjs-node's file:// writes the path without './'
    expect(await loadedSeed(dir)).toBe(3);
    await fileSystem(dir).save!(artifacts(4));
    expect(await loadedSeed(dir)).toBe(4);
    expect(readdirSync(dir).includes('weights.bin')).toBe(false);
  });
});

describe('fileSystem() with saves at once in one process', () => {
  it('leaves the last save intact and loadable, every round', async () => {
    const dir = folder();
    for (let round = 0; round < 20; round++) {
      const first = round % 2;
      const results = await Promise.all([fileSystem(dir).save!(artifacts(first)), fileSystem(dir).save!(artifacts(1 - first))]);
      expect(results.map((r) => r.modelArtifactsInfo.weightDataBytes)).toEqual([400 * (first + 2), 400 * (3 - first)]);
      expect(await loadedSeed(dir)).toBe(1 - first);
    }
    expect(readdirSync(dir).length).toBe(2);
  });
});

describe('fileSystem() in a hostile folder', () => {
  it('never writes through a link planted at a predictable name', async () => {
    const dir = folder();
    await fileSystem(dir).save!(artifacts(1));
    const victim = join(scratch, 'victim.txt');
    writeFileSync(victim, 'precious');
    // The temporary names of the first release (`<file>.<pid>.<ms>.tmp`) for the next seconds, and the legacy weights name.
    // Every existing entry but model.json (refused below) becomes a link as well.
    for (const name of readdirSync(dir).filter((entry) => entry !== 'model.json')) {
      rmSync(join(dir, name));
      symlinkSync(victim, join(dir, name));
    }
    // The clock is pinned so that the names this millisecond would give are the ones planted.
    const now = Date.now();
    const clock = vi.spyOn(Date, 'now').mockReturnValue(now);
    for (const name of ['model.json', 'weights.bin']) symlinkSync(victim, join(dir, `${name}.${process.pid}.${now}.tmp`));
    if (!existsSync(join(dir, 'weights.bin'))) symlinkSync(victim, join(dir, 'weights.bin'));
    await fileSystem(dir).save!(artifacts(2)).finally(() => clock.mockRestore());
    expect(readFileSync(victim, 'utf8')).toBe('precious');
    expect(await loadedSeed(dir)).toBe(2);
  });

  it('refuses a model.json that is a link, on save and on load, and leaves its target alone', async () => {
    const dir = folder();
    const elsewhere = folder();
    await fileSystem(elsewhere).save!(artifacts(1));
    const target = join(elsewhere, 'model.json');
    const before = readFileSync(target, 'utf8');
    mkdirSync(dir);
    symlinkSync(target, join(dir, 'model.json'));
    await expect(fileSystem(dir).save!(artifacts(2))).rejects.toThrow(
      `fileSystem.save: argument 'directory' expected a folder whose model files are regular files, not links, got a symbolic link at ${join(dir, 'model.json')}`,
    );
    await expect(fileSystem(dir).load!()).rejects.toThrow(
      `fileSystem.load: argument 'directory' expected a folder whose model files are regular files, not links, got a symbolic link at ${join(dir, 'model.json')}`,
    );
    expect(readFileSync(target, 'utf8')).toBe(before);
    expect(lstatSync(join(dir, 'model.json')).isSymbolicLink()).toBe(true);
  });

  it('refuses weights that are a link or lie outside the folder', async () => {
    const dir = folder();
    writeFirstFormat(dir, 1);
    rmSync(join(dir, 'weights.bin'));
    const outside = folder();
    writeFirstFormat(outside, 1);
    symlinkSync(join(outside, 'weights.bin'), join(dir, 'weights.bin'));
    await expect(fileSystem(dir).load!()).rejects.toThrow(
      `fileSystem.load: argument 'directory' expected a folder whose model files are regular files, not links, got a symbolic link at ${join(dir, 'weights.bin')}`,
    );
    for (const path of ['../secret.bin', '/etc/passwd', 'sub/weights.bin', '..', './']) {
      writeFirstFormat(dir, 1, path);
      await expect(fileSystem(dir).load!()).rejects.toThrow(
        `fileSystem.load: argument 'weightsManifest.paths' expected names of files inside the model folder, got ${JSON.stringify(path)}`,
      );
    }
    expect(existsSync(join(outside, 'weights.bin'))).toBe(true);
  });
});
