import * as tf from '@tensorflow/tfjs';
import { GatedRouter, LinearGate, MoEArgumentError, MoEDisposedError } from '@moekit/core';
import { expectNoLeakedTensors } from '@moekit/core/testing';
import { TopKChoice } from '@moekit/router-topk';
import { describe, expect, it } from 'vitest';
import { SparseMixerBlock } from './sparse-mixer-block.js';
import { sparseMixerLayout } from './sparse-mixer-layout.js';

describe('SparseMixerBlock', () => {
  it('is LN(h + ffn(h)) after h = LN(x + mix(x)), by hand with Fourier mixing and a zeroed dense FFN', async () => {
    const block = new SparseMixerBlock({ hiddenSize: 2, seqLen: 2, mixing: 'fourier', feedForward: 'dense', intermediateSize: 3, seed: 1 });
    for (const [name, v] of block.namedVariables()) if (name.startsWith('ffn/')) v.assign(tf.zerosLike(v));
    const x = tf.tensor3d([[[1, 2], [3, 4]]]);
    // Fourier: [[10, −2], [−4, 0]] (see fourier-token-mixing.test) → x + F = [[11, 0], [−1, 4]]
    // LN of a 2-vector [a, b] (ε ≈ 0) is [±1, ∓1]: [[1, −1], [−1, 1]]; ffn = 0 → LN again: [[1, −1], [−1, 1]]
    await expectNoLeakedTensors(() => {
      const { output, auxLoss, metrics } = block.apply(x, { training: false });
      expect(output.shape).toEqual([1, 2, 2]);
      (output.arraySync() as number[][][])[0]!.forEach((row, i) => row.forEach((v, j) => expect(v).toBeCloseTo([[1, -1], [-1, 1]][i]![j]!, 5)));
      expect(auxLoss.dataSync()[0]).toBe(0);
      expect(metrics).toBeUndefined();
      tf.dispose([output, auxLoss]);
    });
    x.dispose();
    block.dispose();
  });

  it('with linear mixing and the default Switch MoE: [B, S, D] out, per-token standardised, aux loss and routing metrics, no leaks', async () => {
    const block = new SparseMixerBlock({ hiddenSize: 8, seqLen: 4, intermediateSize: 16, numExperts: 4, seed: 2 });
    expect(block.namedVariables().map(([n, v]) => `${n} [${v.shape.join(', ')}]`)).toEqual([
      'mixing/inputKernel [4, 4]', 'mixing/hiddenKernel [8, 8]', 'mixingNorm/weight [8]', 'mixingNorm/bias [8]', 'outputNorm/weight [8]', 'outputNorm/bias [8]',
      'moe/router/gate/kernel [8, 4]', 'moe/experts/w1 [4, 8, 16]', 'moe/experts/b1 [4, 1, 16]', 'moe/experts/w2 [4, 16, 8]', 'moe/experts/b2 [4, 1, 8]',
    ]);
    const x = tf.randomNormal([3, 4, 8], 0, 1, 'float32', 5);
    await expectNoLeakedTensors(() => {
      const { output, auxLoss, metrics } = block.apply(x, { training: true });
      expect(output.shape).toEqual([3, 4, 8]);
      // post-LN with unit gain and zero bias: every token's features have mean 0 and variance 1
      const { mean, variance } = tf.moments(output, -1);
      for (const m of mean.dataSync()) expect(m).toBeCloseTo(0, 5);
      for (const v of variance.dataSync()) expect(v).toBeCloseTo(1, 3);
      // Switch balance loss ≥ weight·1 (Fedus Eq. 4: E·Σ f·P ≥ 1 at most balanced)
      expect(auxLoss.dataSync()[0]).toBeGreaterThanOrEqual(0.01 - 1e-6);
      // T = 12 tokens, top-1, capacity max(round(1·12/4), 4) = 4 per expert
      expect(metrics!.capacity).toBe(4);
      expect(metrics!.load.reduce((a, b) => a + b, 0) + metrics!.droppedCount).toBe(12);
      tf.dispose([output, auxLoss, mean, variance]);
    });
    x.dispose();
    block.dispose();
  });

  it('uses bidirectional attention when mixing is attention: a later token changes earlier outputs', () => {
    const block = new SparseMixerBlock({ hiddenSize: 8, seqLen: 3, mixing: 'attention', numHeads: 2, feedForward: 'dense', intermediateSize: 8, initializerRange: 0.3, seed: 3 });
    expect(block.namedVariables().map(([n]) => n).slice(0, 4)).toEqual(['mixing/qProj', 'mixing/kProj', 'mixing/vProj', 'mixing/oProj']);
    const a = tf.randomNormal([1, 3, 8], 0, 1, 'float32', 7);
    const b = tf.concat([tf.slice(a, [0, 0, 0], [1, 2, 8]), tf.ones([1, 1, 8])], 1);
    const [ya, yb] = [a, b].map((x) => block.apply(x, { training: false }).output.arraySync() as number[][][]);
    const diff = Math.max(...ya![0]![0]!.map((v, j) => Math.abs(v - yb![0]![0]![j]!)));
    expect(diff).toBeGreaterThan(1e-4);
    tf.dispose([a, b]);
    block.dispose();
  });

  it('takes a caller\'s router (e.g. expert choice) and checks its expert count', () => {
    const router = new GatedRouter({ gate: new LinearGate({ numOutputs: 2, inputDim: 4 }), algorithm: new TopKChoice({ numExperts: 2, k: 1 }) });
    expect(() => new SparseMixerBlock({ hiddenSize: 4, seqLen: 2, intermediateSize: 4, numExperts: 3, router })).toThrow(/router\.numExperts.*3 \(numExperts\).*2/s);
    const block = new SparseMixerBlock({ hiddenSize: 4, seqLen: 2, intermediateSize: 4, numExperts: 2, router });
    expect(block.moe!.router).toBe(router);
    block.dispose();
  });

  it('names a wrong input shape, bad arguments and use after dispose', () => {
    const block = new SparseMixerBlock({ hiddenSize: 4, seqLen: 2, intermediateSize: 4, numExperts: 2, feedForward: 'dense' });
    const x = tf.zeros([1, 3, 4]);
    expect(() => block.apply(x, { training: false })).toThrow(MoEArgumentError);
    expect(() => block.apply(x, { training: false })).toThrow(/SparseMixerBlock\.apply.*x.*\[B, 2, 4\].*\[1, 3, 4\]/s);
    expect(() => new SparseMixerBlock({ hiddenSize: 6, seqLen: 2, intermediateSize: 4, mixing: 'attention', numHeads: 4 })).toThrow(/numHeads.*divisor of hiddenSize \(6\).*4/s);
    expect(() => new SparseMixerBlock({ hiddenSize: 4, seqLen: 2, intermediateSize: 4, mixing: 'conv' as never })).toThrow(/mixing/);
    expect(() => new SparseMixerBlock({ hiddenSize: 4, seqLen: 2, intermediateSize: 4, capacityFactor: 0 })).toThrow(/capacityFactor/);
    block.dispose();
    expect(() => block.apply(x, { training: false })).toThrow(MoEDisposedError);
    x.dispose();
  });
});

describe('sparseMixerLayout', () => {
  it('places Sparse Mixer Base as the reference does: MoE in layers 5–8 (middle), attention in 10–13 (top)', () => {
    const layout = sparseMixerLayout({ numLayers: 14, numAttentionLayers: 4, numMoeLayers: 4 });
    // middle: L − n ≤ 2l < L + n → 10 ≤ 2l < 18 → l = 5…8; top: l ≥ 14 − 4 = 10
    expect(layout.flatMap((k, l) => (k.feedForward === 'moe' ? [l] : []))).toEqual([5, 6, 7, 8]);
    expect(layout.flatMap((k, l) => (k.mixing === 'attention' ? [l] : []))).toEqual([10, 11, 12, 13]);
    expect(layout[0]).toEqual({ mixing: 'linear', feedForward: 'dense' });
  });

  it('bottom, mixed and Fourier layouts; no replacement by default', () => {
    const bottom = sparseMixerLayout({ numLayers: 6, mixing: 'fourier', numAttentionLayers: 2, attentionLayout: 'bottom', numMoeLayers: 2, moeLayout: 'mixed' });
    // bottom: l < 2; mixed: every ⌊6/2⌋ = 3rd layer from 0 → 0, 3
    expect(bottom.map((k) => `${k.mixing[0]}${k.feedForward[0]}`)).toEqual(['am', 'ad', 'fd', 'fm', 'fd', 'fd']);
    expect(sparseMixerLayout({ numLayers: 2 })).toEqual([{ mixing: 'linear', feedForward: 'dense' }, { mixing: 'linear', feedForward: 'dense' }]);
  });

  it('names bad arguments', () => {
    expect(() => sparseMixerLayout({ numLayers: 0 })).toThrow(/sparseMixerLayout.*numLayers/s);
    expect(() => sparseMixerLayout({ numLayers: 4, numMoeLayers: 5 })).toThrow(/numMoeLayers.*\[0, 4\].*5/s);
    expect(() => sparseMixerLayout({ numLayers: 4, moeLayout: 'side' as never })).toThrow(/moeLayout.*side/s);
  });
});
