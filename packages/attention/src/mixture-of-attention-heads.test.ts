import * as tf from '@tensorflow/tfjs';
import { componentConfig, fromComponentConfig, MoEArgumentError, MoEDisposedError, type Router } from '@moekit/core';
import { expectNoLeakedTensors, expectTensorsClose, LinearTopKRouter } from '@moekit/core/testing';
import { describe, expect, it } from 'vitest';
import './register.js';
import { jetMoERouter } from './jetmoe-router.js';
import { MixtureOfAttentionHeads } from './mixture-of-attention-heads.js';

/** Sets each named variable of `moa` to the given values. */
function assign(moa: MixtureOfAttentionHeads, values: Record<string, number[] | number[][] | number[][][]>): void {
  const byPath = new Map(moa.namedVariables());
  for (const [path, value] of Object.entries(values)) {
    const v = byPath.get(path)!;
    v.assign(tf.tensor(value as number[], v.shape));
  }
}

describe('MixtureOfAttentionHeads', () => {
  it('with 2 experts and 1 choice, equals attention computed by hand with the chosen expert’s W_q and W_o', () => {
    // D = 2, one head per expert (G = 1), d = 2, K = 1 (gate = softmax of one logit = 1)
    const moa = new MixtureOfAttentionHeads({ router: jetMoERouter({ numExperts: 2, k: 1, inputDim: 2 }), hiddenSize: 2, zLossWeight: 0 });
    expect(moa.namedVariables().map(([path, v]) => `${path} ${v.shape.join('x')}`)).toEqual(['qProj 2x2x2', 'kProj 2x2', 'vProj 2x2', 'oProj 2x2x2', 'bias 2', 'router/gate/kernel 2x2']);
    assign(moa, {
      'router/gate/kernel': [[1, 0], [0, 1]], // logits = x: token 0 → expert 0, token 1 → expert 1
      qProj: [[[1, 0], [0, 1]], [[2, 0], [0, 2]]], // W_q^0 = I, W_q^1 = 2I
      kProj: [[1, 0], [0, 1]],
      vProj: [[1, 0], [0, 1]],
      oProj: [[[1, 0], [0, 1]], [[0, 1], [1, 0]]], // W_o^0 = I, W_o^1 swaps the two features
    });
    const x = tf.tensor3d([[[1, 0], [0, 1]]]); // [1, 2, 2]
    const { output, expertIndex, load } = moa.apply(x, { training: false });
    expect(expertIndex.arraySync()).toEqual([[0], [1]]);
    expect(Array.from(load.dataSync())).toEqual([1, 1]);
    // position 0 sees only itself: y_0 = v_0 · W_o^0 = [1, 0]
    // position 1 (RoPE, d = 2: rotate pair by the position m, angle m·θ⁰ = m):
    //   q_1 = rope_1(x_1·W_q^1) = rope_1([0, 2]) = [−2 sin 1, 2 cos 1]; k_0 = rope_0([1, 0]) = [1, 0]; k_1 = rope_1([0, 1]) = [−sin 1, cos 1]
    //   scores = [q_1·k_0, q_1·k_1] / √2 = [−2 sin 1, 2] / √2 = [−1.19002, 1.41421]
    //   a = softmax(scores) = [0.068867, 0.931133]; context = a_0·v_0 + a_1·v_1 = [a_0, a_1]; y_1 = context · W_o^1 = [a_1, a_0]
    const s = [(-2 * Math.sin(1)) / Math.SQRT2, 2 / Math.SQRT2];
    const a0 = Math.exp(s[0]!) / (Math.exp(s[0]!) + Math.exp(s[1]!));
    expect(a0).toBeCloseTo(0.068867, 5);
    expectTensorsClose(output, [[[1, 0], [1 - a0, a0]]], { atol: 1e-5 });
    tf.dispose([x, output, expertIndex, load]);
    moa.dispose();
  });

  it('maps [B, S, D] to [B, S, D], returns the aux losses with the z-loss, and leaks nothing', async () => {
    const moa = new MixtureOfAttentionHeads({ router: jetMoERouter({ numExperts: 4, k: 2, inputDim: 16, seed: 1 }), hiddenSize: 16, numKeyValueHeads: 2, headDim: 4, seed: 2 });
    expect(moa.namedVariables().map(([path, v]) => `${path} ${v.shape.join('x')}`)).toEqual(['qProj 4x16x8', 'kProj 16x8', 'vProj 16x8', 'oProj 4x8x16', 'bias 16', 'router/gate/kernel 16x4']);
    const x = tf.randomNormal([2, 5, 16], 0, 1, 'float32', 3);
    const first = moa.apply(x, { training: true }); // prime
    tf.dispose([first.output, first.logits, first.expertIndex, first.load, ...Object.values(first.auxLosses)]);
    await expectNoLeakedTensors(() => {
      const { output, auxLosses, logits, expertIndex, load } = moa.apply(x, { training: true });
      expect(output.shape).toEqual([2, 5, 16]);
      expect(logits.shape).toEqual([10, 4]);
      expect(expertIndex.shape).toEqual([10, 2]);
      expect(Array.from(load.dataSync()).reduce((a, b) => a + b, 0)).toBe(20); // T·K = 10·2 pairs
      expect(Object.keys(auxLosses).sort()).toEqual(['loadBalancing', 'routerZ', 'total']);
      // total = 0.01 · loadBalancing + 0.001 · routerZ
      const [lb, z, total] = [auxLosses['loadBalancing']!, auxLosses['routerZ']!, auxLosses.total].map((t) => t.dataSync()[0]!);
      expect(total).toBeCloseTo(0.01 * lb! + 0.001 * z!, 6);
      tf.dispose([output, logits, expertIndex, load, ...Object.values(auxLosses)]);
    });
    x.dispose();
    moa.dispose();
  });

  it('is causal: changing a later token leaves every earlier output unchanged', () => {
    const moa = new MixtureOfAttentionHeads({ router: jetMoERouter({ numExperts: 4, k: 2, inputDim: 16, seed: 4 }), hiddenSize: 16, headDim: 4, initializerRange: 0.3, seed: 5 });
    const [before, after] = tf.tidy(() => {
      const x = tf.randomNormal([1, 6, 16], 0, 1, 'float32', 6);
      const y = tf.add(x, tf.mul(tf.reshape(tf.oneHot(tf.tensor1d([3], 'int32'), 6), [1, 6, 1]), 5));
      return [x, y].map((input) => (moa.apply(input, { training: false }).output.arraySync() as number[][][])[0]!);
    });
    const maxDiff = (a: number[], b: number[]) => Math.max(...a.map((v, i) => Math.abs(v - b[i]!)));
    for (let s = 0; s < 3; s++) expect(maxDiff(before![s]!, after![s]!)).toBe(0);
    for (let s = 3; s < 6; s++) expect(maxDiff(before![s]!, after![s]!)).toBeGreaterThan(1e-3);
    moa.dispose();
  });

  it('the task loss reaches the router through the gates, and every projection', () => {
    const moa = new MixtureOfAttentionHeads({ router: jetMoERouter({ numExperts: 4, k: 2, inputDim: 8, seed: 7 }), hiddenSize: 8, headDim: 4, zLossWeight: 0, initializerRange: 0.3, seed: 8 });
    const x = tf.randomNormal([2, 4, 8], 0, 1, 'float32', 9);
    const target = tf.randomNormal([2, 4, 8], 0, 1, 'float32', 10);
    const { grads } = tf.variableGrads(() => tf.tidy(() => tf.mean(tf.square(tf.sub(moa.apply(x, { training: true }).output, target))) as tf.Scalar), moa.trainableVariables);
    const norms = Object.fromEntries(moa.namedVariables().map(([path, v]) => [path, tf.tidy(() => tf.norm(grads[v.name]!).dataSync()[0]!)]));
    for (const path of ['qProj', 'kProj', 'vProj', 'oProj', 'bias', 'router/gate/kernel']) expect(norms[path], path).toBeGreaterThan(1e-6);
    tf.dispose([x, target, ...Object.values(grads)]);
    moa.dispose();
  });

  it('works with any token-choice router (core’s LinearTopKRouter) and saves and loads through the registry', () => {
    const moa = new MixtureOfAttentionHeads({ router: new LinearTopKRouter({ inputDim: 8, numExperts: 3, k: 2, seed: 1 }), hiddenSize: 8, headDim: 2, seed: 11 });
    const config = componentConfig(moa, 'test', 'attention');
    expect(config.package).toBe('@moekit/attention');
    expect((config.config['router'] as { className: string }).className).toBe('LinearTopKRouter');
    const loaded = fromComponentConfig<MixtureOfAttentionHeads>(config, 'test', 'attention');
    expect(loaded.getConfig()).toEqual(moa.getConfig());
    const source = new Map(moa.namedVariables());
    for (const [path, v] of loaded.namedVariables()) v.assign(source.get(path)!);
    const x = tf.randomNormal([1, 5, 8], 0, 1, 'float32', 12);
    const [a, b] = [moa, loaded].map((m) => m.apply(x, { training: false }).output);
    expectTensorsClose(b!, a!, { atol: 0 });
    tf.dispose([x, a!, b!]);
    moa.dispose();
    loaded.dispose();
  });

  it('names a wrong input, a router of another width and use after dispose', () => {
    expect(() => new MixtureOfAttentionHeads({ router: jetMoERouter({ numExperts: 2, k: 1, inputDim: 4 }), hiddenSize: 8 })).toThrow(/router.*width 8 \(hiddenSize\).*width 4/s);
    const moa = new MixtureOfAttentionHeads({ router: jetMoERouter({ numExperts: 2, k: 1 }), hiddenSize: 8 });
    const x = tf.zeros([1, 3, 6]);
    expect(() => moa.apply(x, { training: false })).toThrow(MoEArgumentError);
    expect(() => moa.apply(x, { training: false })).toThrow(/x.*last axis of 8 \(hiddenSize\).*\[1, 3, 6\]/s);
    moa.dispose();
    expect(() => moa.apply(x, { training: false })).toThrow(MoEDisposedError);
    x.dispose();
  });

  it('names a router that plans itself (MoA needs token choices) and leaks nothing on that path', async () => {
    const planned = {
      numExperts: 2,
      k: 1,
      trainableVariables: [],
      route: (gateInput: tf.Tensor2D) => ({ logits: tf.zeros([gateInput.shape[0], 2]), probs: tf.zeros([gateInput.shape[0], 2]), plan: {}, auxLosses: { total: tf.scalar(0) } }),
      dispose: () => {},
    } as unknown as Router;
    const moa = new MixtureOfAttentionHeads({ router: planned, hiddenSize: 4, headDim: 2, seed: 1 });
    const x = tf.zeros([1, 3, 4]);
    await expectNoLeakedTensors(() => {
      expect(() => moa.apply(x, { training: false })).toThrow(/router.*a token-choice router/s);
    });
    x.dispose();
    moa.dispose();
  });
});
