import * as tf from '@tensorflow/tfjs';
import { MoEArgumentError, MoEDisposedError } from '@moekit/core';
import { expectNoLeakedTensors } from '@moekit/core/testing';
import { describe, expect, it } from 'vitest';
import { GroupedQueryAttention } from './grouped-query-attention.js';

/** The output rows of `attention` for `x` and for `x` with position `changed` replaced. */
function withChange(attention: GroupedQueryAttention, changed: number): [number[][], number[][]] {
  return tf.tidy(() => {
    const x = tf.randomNormal([1, 6, 16], 0, 1, 'float32', 3);
    const mask = tf.oneHot(tf.tensor1d([changed], 'int32'), 6).reshape([1, 6, 1]);
    const y = tf.add(x, tf.mul(mask, 5));
    return [(attention.apply(x).arraySync() as number[][][])[0]!, (attention.apply(y).arraySync() as number[][][])[0]!];
  });
}
const maxDiff = (a: number[], b: number[]) => Math.max(...a.map((v, i) => Math.abs(v - b[i]!)));

describe('GroupedQueryAttention', () => {
  it('maps [B, S, D] to [B, S, D] with [D, H·d] / [D, G·d] projections, without leaks', async () => {
    const attention = new GroupedQueryAttention({ hiddenSize: 16, numHeads: 4, numKeyValueHeads: 2, seed: 1 });
    expect(attention.namedVariables().map(([path, v]) => `${path} ${v.shape.join('x')}`)).toEqual(['qProj 16x16', 'kProj 16x8', 'vProj 16x8', 'oProj 16x16']);
    const x = tf.randomNormal([2, 5, 16]);
    await expectNoLeakedTensors(() => {
      const y = attention.apply(x);
      expect(y.shape).toEqual([2, 5, 16]);
      y.dispose();
    });
    x.dispose();
    attention.dispose();
  });

  it('is causal: changing a later token leaves every earlier output unchanged', () => {
    const attention = new GroupedQueryAttention({ hiddenSize: 16, numHeads: 4, numKeyValueHeads: 1, initializerRange: 0.3, seed: 2 });
    const [before, after] = withChange(attention, 3);
    for (let s = 0; s < 3; s++) expect(maxDiff(before[s]!, after[s]!)).toBe(0);
    for (let s = 3; s < 6; s++) expect(maxDiff(before[s]!, after[s]!)).toBeGreaterThan(1e-3);
    attention.dispose();
  });

  it('with causal: false (an encoder), changing a later token changes every earlier output too', () => {
    const attention = new GroupedQueryAttention({ hiddenSize: 16, numHeads: 4, causal: false, initializerRange: 0.3, seed: 2 });
    const [before, after] = withChange(attention, 3);
    for (let s = 0; s < 6; s++) expect(maxDiff(before[s]!, after[s]!)).toBeGreaterThan(1e-4);
    attention.dispose();
    expect(() => new GroupedQueryAttention({ hiddenSize: 16, numHeads: 4, causal: false, slidingWindow: 2 })).toThrow(/slidingWindow.*0 when causal is false.*2/s);
  });

  it('with a sliding window, a position no longer sees tokens `window` or more places back', () => {
    const attention = new GroupedQueryAttention({ hiddenSize: 16, numHeads: 2, slidingWindow: 2, initializerRange: 0.3, seed: 4 });
    const [before, after] = withChange(attention, 1);
    expect(maxDiff(before[1]!, after[1]!)).toBeGreaterThan(1e-3);
    expect(maxDiff(before[2]!, after[2]!)).toBeGreaterThan(1e-3); // 2 − 1 < 2: in the window
    expect(maxDiff(before[3]!, after[3]!)).toBe(0); // 3 − 1 = 2: outside (layer-1 attention only)
    attention.dispose();
  });

  it('names bad arguments, a wrong input and use after dispose', () => {
    expect(() => new GroupedQueryAttention({ hiddenSize: 16, numHeads: 4, numKeyValueHeads: 3 })).toThrow(/numKeyValueHeads.*divisor of numHeads \(4\).*3/s);
    expect(() => new GroupedQueryAttention({ hiddenSize: 16, numHeads: 4, numKeyValueHeads: 8 })).toThrow(/numKeyValueHeads/);
    const attention = new GroupedQueryAttention({ hiddenSize: 16, numHeads: 4 });
    const x = tf.zeros([1, 3, 8]);
    expect(() => attention.apply(x)).toThrow(MoEArgumentError);
    expect(() => attention.apply(x)).toThrow(/x.*last axis of 16 \(hiddenSize\).*\[1, 3, 8\]/s);
    attention.dispose();
    expect(() => attention.apply(x)).toThrow(MoEDisposedError);
    x.dispose();
  });
});
