import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { applyPerGroup, perExpert } from './per-expert.js';

describe('perExpert', () => {
  it('splits [E, ...] into E tensors with gradients, E = 1 included', () => {
    for (const numExperts of [1, 3]) {
      const w = tf.variable(tf.ones([numExperts, 2, 2]));
      const { grads } = tf.variableGrads(() => tf.sum(tf.stack(perExpert(w).map((p, e) => tf.mul(p, e + 1)))) as tf.Scalar, [w]);
      expect(perExpert(w).map((p) => p.shape)).toEqual(new Array(numExperts).fill([2, 2]));
      expect(Array.from(grads[w.name]!.dataSync())).toEqual(Array.from({ length: numExperts * 4 }, (_, i) => Math.floor(i / 4) + 1));
      tf.dispose([w, ...Object.values(grads)]);
    }
  });
});

describe('applyPerGroup', () => {
  it('applies fn to each non-empty group in order and gives empty experts zero gradient', () => {
    const w = tf.variable(tf.tensor3d([[[1]], [[2]], [[3]]])); // E = 3, D = D' = 1
    const rows = tf.tensor2d([[1], [2], [3]]);
    const calls: number[] = [];
    const { value, grads } = tf.variableGrads(() => {
      const weights = perExpert(w);
      const y = applyPerGroup(rows, [2, 0, 1], 1, (group, e) => {
        calls.push(e);
        return tf.add(tf.matMul(group, weights[e] as tf.Tensor2D), tf.ones([1, 1])); // a broadcast bias
      });
      expect(Array.from(y.dataSync())).toEqual([2, 3, 10]); // [1, 2]·1 + 1, [3]·3 + 1
      return tf.sum(y) as tf.Scalar;
    });
    expect(calls).toEqual([0, 2]);
    expect(Array.from(grads[w.name]!.dataSync())).toEqual([3, 0, 3]);
    tf.dispose([w, rows, value, ...Object.values(grads)]);
  });

  it('passes the rows straight to fn for one expert, whose gradient tfjs’s split could not take', () => {
    const rows = tf.variable(tf.tensor2d([[1], [2]]));
    const { grads } = tf.variableGrads(() => tf.sum(applyPerGroup(rows, [2], 1, (group) => tf.mul(group, 3))) as tf.Scalar, [rows]);
    expect(Array.from(grads[rows.name]!.dataSync())).toEqual([3, 3]);
    tf.dispose([rows, ...Object.values(grads)]);
  });
});
