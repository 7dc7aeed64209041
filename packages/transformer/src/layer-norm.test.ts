import * as tf from '@tensorflow/tfjs';
import { MoEArgumentError } from '@moekit/core';
import { expectNoLeakedTensors } from '@moekit/core/testing';
import { describe, expect, it } from 'vitest';
import { LayerNorm } from './layer-norm.js';

describe('LayerNorm', () => {
  it('centres, divides by the standard deviation, scales and shifts (Ba et al. Eq. 4, by hand)', async () => {
    const norm = new LayerNorm({ dim: 4, eps: 1e-5 });
    norm.namedVariables().find(([n]) => n === 'weight')![1].assign(tf.tensor1d([1, 2, 1, 1]));
    norm.namedVariables().find(([n]) => n === 'bias')![1].assign(tf.tensor1d([0, 0, 0, 1]));
    const x = tf.tensor2d([[1, 2, 3, 4]]);
    // μ = 2.5, σ² = (2.25 + 0.25 + 0.25 + 2.25) / 4 = 1.25 → (x − μ)/√1.25001 = [−1.341635, −0.447212, 0.447212, 1.341635]; ·g + b
    await expectNoLeakedTensors(() => {
      const y = norm.apply(x);
      const r = 1 / Math.sqrt(1.25 + 1e-5);
      (y.arraySync() as number[][])[0]!.forEach((v, i) => expect(v).toBeCloseTo([-1.5 * r, -1 * r, 0.5 * r, 1.5 * r + 1][i]!, 5));
      y.dispose();
    });
    x.dispose();
    norm.dispose();
  });

  it('names a wrong width', () => {
    const norm = new LayerNorm({ dim: 4 });
    const x = tf.zeros([2, 3]);
    expect(() => norm.apply(x)).toThrow(MoEArgumentError);
    expect(() => norm.apply(x)).toThrow(/LayerNorm\.apply.*x.*last axis of 4.*\[2, 3\]/s);
    x.dispose();
    norm.dispose();
  });
});
