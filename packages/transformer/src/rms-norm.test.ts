import * as tf from '@tensorflow/tfjs';
import { MoEArgumentError, MoEDisposedError } from '@moekit/core';
import { expectNoLeakedTensors } from '@moekit/core/testing';
import { describe, expect, it } from 'vitest';
import { RMSNorm } from './rms-norm.js';

describe('RMSNorm', () => {
  it('divides by the root mean square and multiplies by the gain (Zhang & Sennrich Eq. 4, by hand)', async () => {
    const norm = new RMSNorm({ dim: 3, eps: 1e-5 });
    norm.weight.assign(tf.tensor1d([1, 2, 3]));
    const x = tf.tensor2d([[1, 2, 2]]);
    // mean(x²) = (1 + 4 + 4) / 3 = 3 → x / √(3 + 1e-5) = [0.577349, 1.154698, 1.154698]; · g = [0.577349, 2.309396, 3.464094]
    await expectNoLeakedTensors(() => {
      const y = norm.apply(x);
      const r = 1 / Math.sqrt(3 + 1e-5);
      expect(y.shape).toEqual([1, 3]);
      (y.arraySync() as number[][])[0]!.forEach((v, i) => expect(v).toBeCloseTo([r, 4 * r, 6 * r][i]!, 6));
      y.dispose();
    });
    x.dispose();
    norm.dispose();
  });

  it('names a wrong width and use after dispose', () => {
    const norm = new RMSNorm({ dim: 4 });
    const x = tf.zeros([2, 3]);
    expect(() => norm.apply(x)).toThrow(MoEArgumentError);
    expect(() => norm.apply(x)).toThrow(/RMSNorm\.apply.*x.*last axis of 4.*\[2, 3\]/s);
    expect(() => new RMSNorm({ dim: 4, eps: 0 })).toThrow(/eps/);
    norm.dispose();
    expect(() => norm.apply(x)).toThrow(MoEDisposedError);
    x.dispose();
  });
});
