import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { perExpert } from './per-expert.js';

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
