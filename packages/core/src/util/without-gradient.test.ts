import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { offTape, withoutGradient } from './without-gradient.js';

describe('offTape', () => {
  it('makes routing decisions constants: backprop never meets TopK or ScatterNd', () => {
    const w = tf.variable(tf.tensor2d([[1, 2], [3, 0]]));
    const { value, grads } = tf.variableGrads(() => {
      const scores = tf.matMul(tf.tensor2d([[1, 1]]), w); // [[4, 2]]
      const placed = offTape(() => ({ top: tf.topk(scores, 1).indices, scattered: tf.scatterND(tf.tensor2d([[0]], undefined, 'int32'), tf.tensor1d([1]), [2]) }));
      // the loss uses the decisions, but the gradient flows only through `scores`
      return tf.sum(tf.mul(tf.gather(scores, tf.reshape(placed.top, [-1]), 1), tf.sum(placed.scattered))) as tf.Scalar;
    });
    expect(value.dataSync()[0]).toBe(4); // scores[0, argmax = 0] · 1
    expect(grads[w.name]!.arraySync()).toEqual([[1, 0], [1, 0]]); // ∂ scores[0, 0] / ∂w = x for column 0
    tf.dispose([value, w, ...Object.values(grads)]);
  });

  it("hands its results to the caller's tidy scope and keeps nothing else", () => {
    const before = tf.memory().numTensors;
    tf.tidy(() => {
      const kept = withoutGradient(tf.tensor1d([3, 1, 2]), (t) => tf.tidy(() => tf.topk(t, 2).indices));
      expect(kept.arraySync()).toEqual([0, 2]);
    });
    expect(tf.memory().numTensors).toBe(before);
  });
});
