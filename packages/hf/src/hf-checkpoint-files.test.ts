import { mkdtemp, readFile, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MoEArgumentError } from '@moekit/core';
import { loadHfCheckpoint, saveHfCheckpoint } from './hf-checkpoint-files.js';
import { loadMixtralSparseMoe, mixtralConfig, mixtralSparseMoe, mixtralSparseMoeTensors } from './mixtral-sparse-moe.js';
import { encodeSafetensors, readSafetensorsHeader } from './safetensors.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'wt-hflayout-ckpt-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function rejection(promise: Promise<unknown>): Promise<MoEArgumentError> {
  const e = await promise.then(
    () => undefined,
    (error: unknown) => error,
  );
  expect(e).toBeInstanceOf(MoEArgumentError);
  return e as MoEArgumentError;
}

const PREFIX = 'model.layers.0.block_sparse_moe.';
const CONFIG = { hidden_size: 4, intermediate_size: 6, num_local_experts: 3, num_experts_per_tok: 2 };

describe('saveHfCheckpoint / loadHfCheckpoint', () => {
  it('round trips a Mixtral block through a folder exactly, with format pt and nothing else left behind', async () => {
    const source = mixtralSparseMoe(CONFIG, { seed: 1 });
    const tensors = mixtralSparseMoeTensors(source, PREFIX);
    const config = { model_type: 'mixtral', architectures: ['MixtralForCausalLM'], ...mixtralConfig(source) };
    await saveHfCheckpoint(dir, { tensors, config });
    tf.dispose([...tensors.values()]);
    expect((await readdir(dir)).sort()).toEqual(['config.json', 'model.safetensors']);
    expect(readSafetensorsHeader(await readFile(join(dir, 'model.safetensors'))).metadata).toEqual({ format: 'pt' });

    const loaded = await loadHfCheckpoint(dir);
    expect(loaded.config).toEqual(config);
    const target = mixtralSparseMoe(loaded.config, { seed: 2 });
    loadMixtralSparseMoe(target, loaded.tensors, PREFIX);
    const values = (m: typeof source) => m.namedVariables().map(([path, v]) => [path, Array.from(v.dataSync())]);
    expect(values(target)).toEqual(values(source));
    tf.dispose([...loaded.tensors.values()]);
    source.dispose();
    target.dispose();
  });

  it('replaces an existing checkpoint, and refuses a target that is a symbolic link without writing through it', async () => {
    const weight = tf.ones([2, 2]);
    await saveHfCheckpoint(dir, { tensors: new Map([['w', weight]]), config: { v: 1 } });
    await saveHfCheckpoint(dir, { tensors: new Map([['w', weight]]), config: { v: 2 } });
    expect(JSON.parse(await readFile(join(dir, 'config.json'), 'utf8'))).toEqual({ v: 2 });

    const victim = join(dir, 'victim.txt');
    await writeFile(victim, 'precious');
    await rm(join(dir, 'config.json'));
    await symlink(victim, join(dir, 'config.json'));
    const e = await rejection(saveHfCheckpoint(dir, { tensors: new Map([['w', weight]]), config: { v: 3 } }));
    expect(e.message).toContain(`got a symbolic link at ${join(dir, 'config.json')}`);
    expect(await readFile(victim, 'utf8')).toBe('precious');
    expect((await readdir(dir)).filter((name) => name.endsWith('.tmp'))).toEqual([]); // the temporary files are removed
    const load = await rejection(loadHfCheckpoint(dir));
    expect(load.message).toContain('a symbolic link at');
    weight.dispose();
  });

  it("removes a dead writer's temporary file, and keeps a live writer's and another host's", async () => {
    const deadPid = 4_194_305; // above Linux's pid_max: no such process
    const me = createHash('sha256').update(hostname()).digest('hex').slice(0, 8); // the writer's host tag in the name
    const otherHost = `.hf-${'0'.repeat(8)}-${deadPid}-${'a'.repeat(32)}.tmp`;
    const stale = `.hf-${me}-${deadPid}-${'b'.repeat(32)}.tmp`;
    const live = `.hf-${me}-${process.ppid}-${'c'.repeat(32)}.tmp`;
    for (const name of [otherHost, stale, live]) await writeFile(join(dir, name), 'half written');
    await saveHfCheckpoint(dir, { tensors: new Map(), config: {} });
    expect((await readdir(dir)).sort()).toEqual([otherHost, live, 'config.json', 'model.safetensors'].sort());
  });

  it('reads a sharded checkpoint by its weight_map', async () => {
    const [a, b, c] = [tf.tensor1d([1, 2]), tf.tensor2d([[3]]), tf.tensor1d([4, 5, 6], 'int32')];
    await writeFile(join(dir, 'model-00001-of-00002.safetensors'), await encodeSafetensors({ a, b }));
    await writeFile(join(dir, 'model-00002-of-00002.safetensors'), await encodeSafetensors({ c }));
    await writeFile(join(dir, 'config.json'), '{"model_type": "mixtral"}');
    const index = { metadata: { total_size: 24 }, weight_map: { a: 'model-00001-of-00002.safetensors', b: 'model-00001-of-00002.safetensors', c: 'model-00002-of-00002.safetensors' } };
    await writeFile(join(dir, 'model.safetensors.index.json'), JSON.stringify(index));
    const { tensors } = await loadHfCheckpoint(dir);
    expect(Object.fromEntries([...tensors].map(([name, t]) => [name, t.arraySync()]))).toEqual({ a: [1, 2], b: [[3]], c: [4, 5, 6] });
    tf.dispose([a, b, c, ...tensors.values()]);

    // a tensor its shard lacks: an error naming the map, and the first shard's tensors are released
    await writeFile(join(dir, 'model.safetensors.index.json'), JSON.stringify({ weight_map: { ...index.weight_map, d: 'model-00002-of-00002.safetensors' } }));
    const count = tf.memory().numTensors;
    const missing = await rejection(loadHfCheckpoint(dir));
    expect(missing.message).toContain("argument 'model.safetensors.index.json.weight_map' expected tensors that model-00002-of-00002.safetensors holds, got 'd'");
    expect(tf.memory().numTensors).toBe(count);

    await writeFile(join(dir, 'model.safetensors.index.json'), JSON.stringify({ weight_map: { a: '../outside.safetensors' } }));
    expect((await rejection(loadHfCheckpoint(dir))).argument).toBe("model.safetensors.index.json.weight_map['a']");
    await writeFile(join(dir, 'model.safetensors.index.json'), JSON.stringify({ weight_map: { a: 'model-00003-of-00002.safetensors' } }));
    expect((await rejection(loadHfCheckpoint(dir))).actual).toBe(`no model-00003-of-00002.safetensors in ${dir}`);
  });

  it('names a missing folder, a missing config.json, bad JSON and missing weights', async () => {
    expect((await rejection(loadHfCheckpoint(join(dir, 'nope')))).message).toContain('expected a folder holding config.json');
    expect((await rejection(loadHfCheckpoint(dir))).actual).toBe(`no config.json in ${dir}`);
    await writeFile(join(dir, 'config.json'), '{"hidden_size": ');
    expect((await rejection(loadHfCheckpoint(dir))).argument).toBe('config.json');
    await writeFile(join(dir, 'config.json'), '[1]');
    expect((await rejection(loadHfCheckpoint(dir))).message).toContain("argument 'config.json' expected a JSON object, got [1]");
    await writeFile(join(dir, 'config.json'), '{}');
    expect((await rejection(loadHfCheckpoint(dir))).message).toContain('expected a folder holding model.safetensors or model.safetensors.index.json');
    expect((await rejection(saveHfCheckpoint(dir, { tensors: new Map(), config: [] as unknown as Record<string, unknown> }))).argument).toBe('checkpoint.config');
    expect((await rejection(saveHfCheckpoint(dir, { tensors: new Map(), config: {}, weights: 1 } as never))).message).toContain('weights');
  });
});
