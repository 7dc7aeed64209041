import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { GatedRouter, LinearGate, MixtureOfExperts, MoEArgumentError } from '@moekit/core';
import { expectNoLeakedTensors } from '@moekit/core/testing';
import { FeedForwardExperts } from '@moekit/experts-ffn';
import { MoELayer } from '@moekit/layers';
import { SwitchRouter } from '@moekit/router-switch';
import { TopKChoice, TopKRouter } from '@moekit/router-topk';
import { checkMixtralExportable, loadMixtralSparseMoe, mixtralConfig, mixtralSparseMoe, mixtralSparseMoeTensors } from './mixtral-sparse-moe.js';
import { decodeSafetensors, encodeSafetensors } from './safetensors.js';

const PREFIX = 'model.layers.0.block_sparse_moe.';
const CONFIG = { hidden_size: 4, intermediate_size: 6, num_local_experts: 3, num_experts_per_tok: 2, router_aux_loss_coef: 0.02, output_router_logits: true };

function variableValues(moe: MixtureOfExperts): Record<string, number[]> {
  return Object.fromEntries(moe.namedVariables().map(([path, v]) => [path, Array.from(v.dataSync())]));
}

function output(moe: MixtureOfExperts, x: tf.Tensor): number[] {
  const { output: y, auxLosses } = moe.apply(x, { training: false });
  const values = Array.from(y.dataSync());
  tf.dispose([y, ...Object.values(auxLosses)]);
  return values;
}

async function throughSafetensors(tensors: Map<string, tf.Tensor>): Promise<Map<string, tf.Tensor>> {
  const bytes = await encodeSafetensors(tensors, { metadata: { format: 'pt' } });
  tf.dispose([...tensors.values()]);
  return decodeSafetensors(bytes).tensors;
}

describe('Mixtral layout', () => {
  it('names and shapes every tensor as transformers does, transposed', () => {
    const moe = mixtralSparseMoe(CONFIG, { seed: 1 });
    const tensors = mixtralSparseMoeTensors(moe, PREFIX);
    const shapes = Object.fromEntries([...tensors].map(([name, t]) => [name.slice(PREFIX.length), t.shape]));
    expect(Object.keys(shapes)).toHaveLength(1 + 3 * 3);
    expect(shapes['gate.weight']).toEqual([3, 4]); // [E, D]
    expect(shapes['experts.2.w1.weight']).toEqual([6, 4]); // [H, D]
    expect(shapes['experts.2.w2.weight']).toEqual([4, 6]); // [D, H]
    expect(shapes['experts.2.w3.weight']).toEqual([6, 4]); // [H, D]
    const gate = moe.namedVariables().find(([path]) => path === 'router/gate/kernel')![1]; // [D, E]
    expect(tensors.get(`${PREFIX}gate.weight`)!.arraySync()).toEqual(tf.tidy(() => tf.transpose(gate).arraySync()));
    tf.dispose([...tensors.values()]);
    moe.dispose();
  });

  it('round trips exactly through safetensors: identical variables and outputs', async () => {
    const source = mixtralSparseMoe(CONFIG, { seed: 1 });
    const target = mixtralSparseMoe(CONFIG, { seed: 7 });
    const x = tf.randomNormal([5, 4], 0, 1, 'float32', 3);
    expect(output(target, x)).not.toEqual(output(source, x));
    const tensors = await throughSafetensors(mixtralSparseMoeTensors(source, PREFIX));
    loadMixtralSparseMoe(target, tensors, PREFIX);
    expect(variableValues(target)).toEqual(variableValues(source));
    expect(output(target, x)).toEqual(output(source, x));
    tf.dispose([x, ...tensors.values()]);
    source.dispose();
    target.dispose();
  });

  it('round trips through MoELayers in models, building the unbuilt target from the gate width', async () => {
    const layer = (seed: number) =>
      new MoELayer({
        router: new GatedRouter({ gate: new LinearGate({ numOutputs: 3, seed }), algorithm: new TopKChoice({ numExperts: 3, k: 2 }) }),
        experts: new FeedForwardExperts({ numExperts: 3, hiddenDim: 6, gated: 'swiglu', useBias: false, seed }),
        capacity: { train: 0, eval: 0 },
      });
    const source = layer(1);
    const model = tf.sequential({ layers: [tf.layers.inputLayer({ inputShape: [2, 4] }), source] });
    const target = layer(9);
    const x = tf.randomNormal([3, 2, 4], 0, 1, 'float32', 5);
    const tensors = await throughSafetensors(mixtralSparseMoeTensors(source.moe, PREFIX));
    loadMixtralSparseMoe(target.moe, tensors, PREFIX); // target's weights are not created yet
    const restored = tf.sequential({ layers: [tf.layers.inputLayer({ inputShape: [2, 4] }), target] });
    const [y1, y2] = [model.predict(x) as tf.Tensor, restored.predict(x) as tf.Tensor];
    expect(Array.from(y2.dataSync())).toEqual(Array.from(y1.dataSync()));
    tf.dispose([x, y1, y2, ...tensors.values()]);
    model.dispose();
    restored.dispose();
  });

  it("maps the right way round: HF's w2(silu(w1 x) * w3 x) from the exported tensors equals moekit's output", () => {
    const moe = mixtralSparseMoe({ hidden_size: 2, intermediate_size: 1, num_local_experts: 2, num_experts_per_tok: 1 });
    const experts = moe.experts as FeedForwardExperts;
    const gate = moe.namedVariables().find(([path]) => path === 'router/gate/kernel')![1];
    gate.assign(tf.tensor2d([[1, 0], [0.5, 0]])); // kernel [D, E]
    experts.weights.w1.assign(tf.tensor3d([[[1], [0]], [[0], [0]]])); // [E, D, H]
    experts.weights.v!.assign(tf.tensor3d([[[0], [1]], [[0], [0]]])); // [E, D, H]
    experts.weights.w2.assign(tf.tensor3d([[[2, 3]], [[0, 0]]])); // [E, H, D]
    const tensors = mixtralSparseMoeTensors(moe, '');
    const hf = Object.fromEntries([...tensors].map(([name, t]) => [name, t.arraySync() as number[][]]));
    expect(hf['gate.weight']).toEqual([[1, 0.5], [0, 0]]); // [E, D]
    expect(hf['experts.0.w1.weight']).toEqual([[1, 0]]); // [H, D]
    expect(hf['experts.0.w3.weight']).toEqual([[0, 1]]); // [H, D]
    expect(hf['experts.0.w2.weight']).toEqual([[2], [3]]); // [D, H]
    // x = [1, 2]: logits = gate.weight · x = [1 + 1, 0] → expert 0, weight 1 (top-1 renormalised)
    // w1 x = 1, silu(1) = 1 · σ(1) = 0.7310586; w3 x = 2 → h = 1.4621172; w2 h = [2.9242344, 4.3863516]
    const x = [1, 2];
    const dot = (row: number[], v: number[]) => row.reduce((s, w, i) => s + w * v[i]!, 0);
    const silu = (z: number) => z / (1 + Math.exp(-z));
    const h = hf['experts.0.w1.weight']!.map((row, j) => silu(dot(row, x)) * dot(hf['experts.0.w3.weight']![j]!, x));
    const byHand = hf['experts.0.w2.weight']!.map((row) => dot(row, h));
    expect(byHand[0]).toBeCloseTo(2.9242344, 6);
    expect(byHand[1]).toBeCloseTo(4.3863516, 6);
    const input = tf.tensor2d([x]);
    const y = output(moe, input);
    expect(y[0]).toBeCloseTo(byHand[0]!, 5);
    expect(y[1]).toBeCloseTo(byHand[1]!, 5);
    tf.dispose([input, ...tensors.values()]);
    moe.dispose();
  });

  it('maps a noise-free TopKRouter too (kernel router/kernel)', () => {
    const moe = new MixtureOfExperts({
      router: new TopKRouter({ numExperts: 2, k: 2, noise: 'none', inputDim: 3 }),
      experts: new FeedForwardExperts({ numExperts: 2, inputDim: 3, hiddenDim: 4, gated: 'swiglu', useBias: false }),
    });
    const tensors = mixtralSparseMoeTensors(moe, PREFIX);
    expect(tensors.get(`${PREFIX}gate.weight`)!.shape).toEqual([2, 3]);
    tf.dispose([...tensors.values()]);
    moe.dispose();
  });

  it('writes the config.json fields back as read', () => {
    const moe = mixtralSparseMoe(CONFIG);
    expect(mixtralConfig(moe)).toEqual({ ...CONFIG, router_jitter_noise: 0, hidden_act: 'silu' });
    moe.dispose();
  });

  it('leaks no tensor exporting and loading', async () => {
    const moe = mixtralSparseMoe(CONFIG, { seed: 1 });
    await expectNoLeakedTensors(() => {
      const tensors = mixtralSparseMoeTensors(moe, PREFIX);
      loadMixtralSparseMoe(moe, tensors, PREFIX);
      tf.dispose([...tensors.values()]);
    });
    moe.dispose();
  });
});

describe('Mixtral layout errors', () => {
  const error = (fn: () => unknown): MoEArgumentError => {
    try {
      fn();
    } catch (e) {
      expect(e).toBeInstanceOf(MoEArgumentError);
      return e as MoEArgumentError;
    }
    throw new Error('expected an MoEArgumentError');
  };

  /** Exports `moe`, lets `edit` spoil the map, and returns the load's error; checks nothing was assigned and nothing leaked. */
  function loadError(edit: (tensors: Map<string, tf.Tensor>) => void): MoEArgumentError {
    const moe = mixtralSparseMoe(CONFIG, { seed: 1 });
    const other = mixtralSparseMoe(CONFIG, { seed: 2 });
    const tensors = mixtralSparseMoeTensors(other, PREFIX);
    edit(tensors);
    const before = variableValues(moe);
    const count = tf.memory().numTensors;
    const e = error(() => loadMixtralSparseMoe(moe, tensors, PREFIX));
    expect(tf.memory().numTensors).toBe(count);
    expect(variableValues(moe)).toEqual(before); // checked before anything is assigned
    tf.dispose([...tensors.values()]);
    moe.dispose();
    other.dispose();
    return e;
  }

  it('names a missing tensor and its expected shape', () => {
    const e = loadError((t) => {
      t.get(`${PREFIX}experts.1.w3.weight`)!.dispose();
      t.delete(`${PREFIX}experts.1.w3.weight`);
    });
    expect(e.argument).toBe(`tensors['${PREFIX}experts.1.w3.weight']`);
    expect(e.message).toContain('expected a tensor of shape [6, 4] (experts/v of expert 1, transposed), got no such tensor');
  });

  it('names a tensor of the wrong shape (an untransposed one), with both shapes', () => {
    const e = loadError((t) => {
      const name = `${PREFIX}experts.0.w1.weight`;
      const w = t.get(name)!;
      t.set(name, tf.transpose(w));
      w.dispose();
    });
    expect(e.message).toBe(`loadMixtralSparseMoe: argument 'tensors['${PREFIX}experts.0.w1.weight']' expected shape [6, 4] (experts/w1 of expert 0, transposed), got shape [4, 6]`);
  });

  it('names an unexpected tensor under the prefix, and a non-float32 one', () => {
    const extra = loadError((t) => t.set(`${PREFIX}experts.3.w1.weight`, tf.zeros([6, 4])));
    expect(extra.argument).toBe(`tensors['${PREFIX}experts.3.w1.weight']`);
    expect(extra.message).toContain(`expected only the 10 tensors of the Mixtral layout under '${PREFIX}', got a tensor of shape [6, 4] the layout does not have`);
    const int = loadError((t) => {
      const name = `${PREFIX}gate.weight`;
      t.get(name)!.dispose();
      t.set(name, tf.zeros([3, 4], 'int32'));
    });
    expect(int.message).toContain('expected a float32 tensor, got dtype int32');
  });

  it('ignores tensors outside the prefix (other layers)', () => {
    const moe = mixtralSparseMoe(CONFIG);
    const tensors = mixtralSparseMoeTensors(moe, PREFIX);
    tensors.set('model.layers.1.block_sparse_moe.gate.weight', tf.zeros([3, 4]));
    loadMixtralSparseMoe(moe, tensors, PREFIX);
    tf.dispose([...tensors.values()]);
    moe.dispose();
  });

  it('says what does not fit Mixtral: a SwitchRouter, an ungated or biased bank, sigmoid gating, an unbuilt MoE', () => {
    const ffn = (args: Partial<ConstructorParameters<typeof FeedForwardExperts>[0]> = {}) => new FeedForwardExperts({ numExperts: 2, hiddenDim: 4, gated: 'swiglu', useBias: false, ...args });
    const gated = (algorithm: TopKChoice) => new GatedRouter({ gate: new LinearGate({ numOutputs: 2 }), algorithm });
    const cases: [MixtureOfExperts, string, string][] = [
      [new MixtureOfExperts({ router: new SwitchRouter({ numExperts: 2 }), experts: ffn() }), 'moe.router', 'got SwitchRouter'],
      [new MixtureOfExperts({ router: gated(new TopKChoice({ numExperts: 2 })), experts: ffn({ gated: 'none' }) }), 'moe.experts.gated', "got 'none'"],
      [new MixtureOfExperts({ router: gated(new TopKChoice({ numExperts: 2 })), experts: ffn({ useBias: true }) }), 'moe.experts.useBias', 'got true'],
      [new MixtureOfExperts({ router: gated(new TopKChoice({ numExperts: 2, gating: 'sigmoid' })), experts: ffn() }), 'moe.router.algorithm', "gating 'sigmoid'"],
      [new MixtureOfExperts({ router: new TopKRouter({ numExperts: 2 }), experts: ffn() }), 'moe.router', "noise 'shazeer'"],
    ];
    for (const [moe, argument, actual] of cases) {
      const e = error(() => checkMixtralExportable(moe));
      expect(e.argument).toBe(argument);
      expect(e.message).toContain(actual);
      moe.dispose();
    }
    const unbuilt = new MixtureOfExperts({ router: gated(new TopKChoice({ numExperts: 2 })), experts: ffn() });
    expect(error(() => mixtralSparseMoeTensors(unbuilt, PREFIX)).actual).toBe('an MoE whose weights are not created yet');
    expect(error(() => loadMixtralSparseMoe(unbuilt, new Map(), PREFIX)).message).toContain(`'tensors['${PREFIX}gate.weight']' expected a tensor of shape [2, D]`);
    unbuilt.dispose();
    // a router built with inputDim but experts still lazy: loading builds the experts for the gate's width
    const half = new MixtureOfExperts({ router: new GatedRouter({ gate: new LinearGate({ numOutputs: 3, inputDim: 4 }), algorithm: new TopKChoice({ numExperts: 3 }) }), experts: ffn({ numExperts: 3, hiddenDim: 6 }) });
    expect(error(() => mixtralSparseMoeTensors(half, PREFIX)).argument).toBe('moe');
    const full = mixtralSparseMoe(CONFIG, { seed: 3 });
    const tensors = mixtralSparseMoeTensors(full, PREFIX);
    loadMixtralSparseMoe(half, tensors, PREFIX);
    expect(variableValues(half)).toEqual(variableValues(full));
    tf.dispose([...tensors.values()]);
    half.dispose();
    full.dispose();
  });
});
