import * as tf from '@tensorflow/tfjs';
import { describe, expect, it, vi } from 'vitest';
import { GatedRouter, LinearGate, MixtureOfExperts, MoEArgumentError } from '@moekit/core';
import { expectNoLeakedTensors } from '@moekit/core/testing';
import { FeedForwardExperts } from '@moekit/experts-ffn';
import { MoELayer } from '@moekit/layers';
import { SwitchRouter } from '@moekit/router-switch';
import { TopKChoice } from '@moekit/router-topk';
import { decodeSafetensors, encodeSafetensors } from './safetensors.js';
import { checkSwitchExportable, loadSwitchSparseMlp, switchSparseMlp, switchSparseMlpTensors, switchTransformersConfig } from './switch-sparse-mlp.js';

const PREFIX = 'encoder.block.1.layer.1.mlp.';
const CONFIG = { d_model: 4, d_ff: 6, num_experts: 3, expert_capacity: 2, router_jitter_noise: 0.01, router_z_loss_coef: 0.001, router_aux_loss_coef: 0.001 };

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

const error = (fn: () => unknown): MoEArgumentError => {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(MoEArgumentError);
    return e as MoEArgumentError;
  }
  throw new Error('expected an MoEArgumentError');
};

describe('Switch Transformers layout', () => {
  it('names and shapes every tensor as transformers does, transposed', () => {
    const moe = switchSparseMlp(CONFIG, { seed: 1 });
    const tensors = switchSparseMlpTensors(moe, PREFIX);
    const shapes = Object.fromEntries([...tensors].map(([name, t]) => [name.slice(PREFIX.length), t.shape]));
    expect(shapes).toEqual({
      'router.classifier.weight': [3, 4], // [E, D]
      ...Object.fromEntries([0, 1, 2].flatMap((i) => [[`experts.expert_${i}.wi.weight`, [6, 4]], [`experts.expert_${i}.wo.weight`, [4, 6]]])), // [H, D], [D, H]
    });
    tf.dispose([...tensors.values()]);
    moe.dispose();
  });

  it('round trips exactly through safetensors: identical variables and outputs', async () => {
    const source = switchSparseMlp(CONFIG, { seed: 1, tokensPerGroup: 6 });
    const target = switchSparseMlp(CONFIG, { seed: 5, tokensPerGroup: 6 });
    const x = tf.randomNormal([6, 4], 0, 1, 'float32', 2);
    const tensors = await throughSafetensors(switchSparseMlpTensors(source, PREFIX));
    loadSwitchSparseMlp(target, tensors, PREFIX);
    expect(variableValues(target)).toEqual(variableValues(source));
    expect(output(target, x)).toEqual(output(source, x));
    tf.dispose([x, ...tensors.values()]);
    source.dispose();
    target.dispose();
  });

  it('round trips through MoELayers in models', async () => {
    const layer = (seed: number) =>
      new MoELayer({ router: new SwitchRouter({ numExperts: 3, seed }), experts: new FeedForwardExperts({ numExperts: 3, hiddenDim: 6, useBias: false, seed }), capacity: { eval: 0 } });
    const source = layer(1);
    const model = tf.sequential({ layers: [tf.layers.inputLayer({ inputShape: [2, 4] }), source] });
    const target = layer(8);
    const tensors = await throughSafetensors(switchSparseMlpTensors(source.moe, PREFIX));
    loadSwitchSparseMlp(target.moe, tensors, PREFIX);
    const restored = tf.sequential({ layers: [tf.layers.inputLayer({ inputShape: [2, 4] }), target] });
    const x = tf.randomNormal([3, 2, 4], 0, 1, 'float32', 4);
    const [y1, y2] = [model.predict(x) as tf.Tensor, restored.predict(x) as tf.Tensor];
    expect(Array.from(y2.dataSync())).toEqual(Array.from(y1.dataSync()));
    tf.dispose([x, y1, y2, ...tensors.values()]);
    model.dispose();
    restored.dispose();
  });

  it("maps the right way round: HF's p · wo(relu(wi x)) from the exported tensors equals moekit's output", () => {
    const moe = switchSparseMlp({ d_model: 2, d_ff: 1, num_experts: 2 });
    const router = moe.namedVariables().find(([path]) => path === 'router/kernel')![1];
    const experts = moe.experts as FeedForwardExperts;
    router.assign(tf.tensor2d([[1, 0], [0, 1]])); // kernel [D, E]
    experts.weights.w1.assign(tf.tensor3d([[[1], [1]], [[0], [0]]])); // [E, D, H]
    experts.weights.w2.assign(tf.tensor3d([[[2, -1]], [[0, 0]]])); // [E, H, D]
    const tensors = switchSparseMlpTensors(moe, '');
    const hf = Object.fromEntries([...tensors].map(([name, t]) => [name, t.arraySync() as number[][]]));
    expect(hf['experts.expert_0.wi.weight']).toEqual([[1, 1]]); // [H, D]
    expect(hf['experts.expert_0.wo.weight']).toEqual([[2], [-1]]); // [D, H]
    // x = [2, 1]: logits = [2, 1], p = softmax = [0.7310586, 0.2689414] → expert 0 with p 0.7310586
    // wi x = 3, relu → 3; wo · 3 = [6, -3]; scaled by p: [4.3863516, -2.1931758]
    const x = [2, 1];
    const dot = (row: number[], v: number[]) => row.reduce((s, w, i) => s + w * v[i]!, 0);
    const logits = hf['router.classifier.weight']!.map((row) => dot(row, x));
    const p = Math.exp(logits[0]!) / (Math.exp(logits[0]!) + Math.exp(logits[1]!));
    const h = hf['experts.expert_0.wi.weight']!.map((row) => Math.max(0, dot(row, x)));
    const byHand = hf['experts.expert_0.wo.weight']!.map((row) => p * dot(row, h));
    expect(byHand[0]).toBeCloseTo(4.3863516, 6);
    expect(byHand[1]).toBeCloseTo(-2.1931758, 6);
    const input = tf.tensor2d([x]);
    const y = output(moe, input);
    expect(y[0]).toBeCloseTo(byHand[0]!, 5);
    expect(y[1]).toBeCloseTo(byHand[1]!, 5);
    tf.dispose([input, ...tensors.values()]);
    moe.dispose();
  });

  it("gives a call on one row of tokensPerGroup tokens HF's expert_capacity slots, dropping by position", () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined); // HF drops at evaluation too: moekit warns once per MoE
    // E = 3, S = 6, expert_capacity 2 → factor 2·3/6 = 1 → round(1 · 6 / 3) = 2 slots
    const moe = switchSparseMlp(CONFIG, { tokensPerGroup: 6 });
    const x = tf.randomNormal([6, 4], 0, 1, 'float32', 1);
    for (const training of [true, false]) {
      const { output: y, auxLosses, metrics } = moe.apply(x, { training });
      expect(metrics.capacity).toBe(2);
      tf.dispose([y, ...Object.values(auxLosses)]);
    }
    // E = 2, S = 4, expert_capacity 1, every token to expert 0: only the first is kept
    const one = switchSparseMlp({ d_model: 2, d_ff: 2, num_experts: 2, expert_capacity: 1 }, { tokensPerGroup: 4 });
    one.namedVariables().find(([path]) => path === 'router/kernel')![1].assign(tf.tensor2d([[5, 0], [5, 0]])); // every token to expert 0
    (one.experts as FeedForwardExperts).weights.w1.assign(tf.ones([2, 2, 2]));
    (one.experts as FeedForwardExperts).weights.w2.assign(tf.ones([2, 2, 2]));
    const tokens = tf.tensor2d([[1, 1], [2, 2], [3, 3], [4, 4]]);
    const { output: y, auxLosses, metrics } = one.apply(tokens, { training: false });
    expect(metrics.capacity).toBe(1);
    const rows = y.arraySync() as number[][];
    // token 0: p = σ(10 − 0) ≈ 0.9999546, h = relu(1 + 1) = 2 per hidden unit, wo · h = 4 → 3.9998184
    expect(rows[0]![0]).toBeCloseTo(3.9998184, 5);
    expect(rows.slice(1)).toEqual([[0, 0], [0, 0], [0, 0]]); // HF would pass p · x on; moekit's droppedTokens 'zero' gives 0
    expect(warn.mock.calls.at(-1)![0]).toContain('dropped 75.0 %');
    warn.mockRestore();
    tf.dispose([x, tokens, y, ...Object.values(auxLosses)]);
    moe.dispose();
    one.dispose();
  });

  it('writes the config.json fields back as read', () => {
    const moe = switchSparseMlp({ ...CONFIG, dense_act_fn: 'gelu' }, { tokensPerGroup: 6 });
    expect(switchTransformersConfig(moe, { tokensPerGroup: 6 })).toEqual({ ...CONFIG, router_bias: false, router_dtype: 'float32', dense_act_fn: 'gelu' });
    expect(switchTransformersConfig(moe, { tokensPerGroup: 12 }).expert_capacity).toBe(4);
    expect(error(() => switchTransformersConfig(moe, { tokensPerGroup: 0 })).argument).toBe('options.tokensPerGroup');
    moe.dispose();
  });

  it('leaks no tensor exporting and loading', async () => {
    const moe = switchSparseMlp(CONFIG, { seed: 1 });
    await expectNoLeakedTensors(() => {
      const tensors = switchSparseMlpTensors(moe, PREFIX);
      loadSwitchSparseMlp(moe, tensors, PREFIX);
      tf.dispose([...tensors.values()]);
    });
    moe.dispose();
  });
});

describe('Switch Transformers layout errors', () => {
  it('names a tensor of the wrong shape, a missing one and an unexpected one; assigns nothing', () => {
    const moe = switchSparseMlp(CONFIG, { seed: 1 });
    const before = variableValues(moe);
    const other = switchSparseMlp(CONFIG, { seed: 2 });
    const tensors = switchSparseMlpTensors(other, PREFIX);
    other.dispose();
    const wo = `${PREFIX}experts.expert_2.wo.weight`;
    const good = tensors.get(wo)!;
    tensors.set(wo, tf.zeros([4, 7]));
    expect(error(() => loadSwitchSparseMlp(moe, tensors, PREFIX)).message).toBe(
      `loadSwitchSparseMlp: argument 'tensors['${wo}']' expected shape [4, 6] (experts/w2 of expert 2, transposed), got shape [4, 7]`,
    );
    tensors.get(wo)!.dispose();
    tensors.delete(wo);
    expect(error(() => loadSwitchSparseMlp(moe, tensors, PREFIX)).actual).toBe('no such tensor');
    tensors.set(wo, good);
    tensors.set(`${PREFIX}router.classifier.bias`, tf.zeros([3]));
    expect(error(() => loadSwitchSparseMlp(moe, tensors, PREFIX)).argument).toBe(`tensors['${PREFIX}router.classifier.bias']`);
    expect(variableValues(moe)).toEqual(before);
    tf.dispose([...tensors.values()]);
    moe.dispose();
  });

  it('says what does not fit Switch: a GatedRouter, random drops, renormalisation, a gated or biased bank', () => {
    const ffn = (args: Partial<ConstructorParameters<typeof FeedForwardExperts>[0]> = {}) => new FeedForwardExperts({ numExperts: 2, hiddenDim: 4, useBias: false, ...args });
    const cases: [MixtureOfExperts, string, string][] = [
      [new MixtureOfExperts({ router: new GatedRouter({ gate: new LinearGate({ numOutputs: 2 }), algorithm: new TopKChoice({ numExperts: 2, k: 1 }) }), experts: ffn() }), 'moe.router', 'got GatedRouter'],
      [new MixtureOfExperts({ router: new SwitchRouter({ numExperts: 2, dropPolicy: 'random' }), experts: ffn() }), 'moe.router.dropPolicy', "got 'random'"],
      [new MixtureOfExperts({ router: new SwitchRouter({ numExperts: 2, jitterOn: 'logits' }), experts: ffn() }), 'moe.router.jitterOn', "got 'logits'"],
      [new MixtureOfExperts({ router: new SwitchRouter({ numExperts: 2 }), experts: ffn(), renormalize: 'afterDrop' }), 'moe.renormalize', "got 'afterDrop'"],
      [new MixtureOfExperts({ router: new SwitchRouter({ numExperts: 2 }), experts: ffn({ gated: 'swiglu' }) }), 'moe.experts.gated', "got 'swiglu'"],
      [new MixtureOfExperts({ router: new SwitchRouter({ numExperts: 2 }), experts: ffn({ useBias: true }) }), 'moe.experts.useBias', 'got true'],
    ];
    for (const [moe, argument, actual] of cases) {
      const e = error(() => checkSwitchExportable(moe));
      expect(e.argument).toBe(argument);
      expect(e.message).toContain(actual);
      moe.dispose();
    }
    expect(error(() => switchSparseMlp(CONFIG, { tokensPerGroup: 1.5 })).argument).toBe('options.tokensPerGroup');
  });
});
