import * as tf from '@tensorflow/tfjs';
import { GatedRouter } from '@moekit/core';
import { describe, expect, it } from 'vitest';
import { CosineGate } from './cosine-gate.js';
import { TopKChoice } from './top-k-choice.js';
import { TopKRouter } from './top-k-router.js';

// With E = 4, k = 2 and 3 experts excluded, top-2 had to take an excluded expert as the second choice:
// TopKRouter chose [3, 0] with expert 0 excluded — it took a slot in expert 0's buffer and counted in
// its load although the caller had excluded it. Fewer than k experts left is now a named error.
describe('excludedExperts must leave at least k experts to choose', () => {
  const excluded = [true, true, true, false];
  const message = "argument 'excludedExperts' expected at most 2 excluded experts (E − k = 4 − 2, so that k remain to choose), got 3 of 4";

  it('TopKRouter', () => {
    const router = new TopKRouter({ numExperts: 4, k: 2, inputDim: 3, seed: 1 });
    const x = tf.ones([2, 3]) as tf.Tensor2D;
    const before = tf.memory().numTensors;
    for (const training of [false, true]) expect(() => router.route(x, { training, excludedExperts: excluded })).toThrow(`TopKRouter.route: ${message}`);
    expect(tf.memory().numTensors).toBe(before);
    // two left is enough: both choices are the experts left, 2 and 3
    const out = router.route(x, { training: false, excludedExperts: [true, true, false, false] });
    expect((out.expertIndex.arraySync() as number[][]).map((row) => [...row].sort())).toEqual([[2, 3], [2, 3]]);
    tf.dispose([x, out as unknown as tf.TensorContainer]);
    router.dispose();
  });

  it('TopKChoice (under a gate that honours exclusions)', () => {
    const router = new GatedRouter({ gate: new CosineGate({ numOutputs: 4, inputDim: 3, seed: 2 }), algorithm: new TopKChoice({ numExperts: 4, k: 2 }) });
    const x = tf.ones([2, 3]) as tf.Tensor2D;
    expect(() => router.route(x, { training: false, excludedExperts: excluded })).toThrow(`TopKChoice.route: ${message}`);
    x.dispose();
    router.dispose();
  });
});
