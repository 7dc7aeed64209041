import * as tf from '@tensorflow/tfjs-core';
import { expectNoLeakedTensors } from '@moekit/core/testing';
import { describe, expect, it } from 'vitest';
import { maxAbsDifference, traceAndRun } from '../testing/trace-and-run.js';

describe('element-wise converters', () => {
  it('unary float kernels agree with tfjs', async () => {
    const x = tf.tensor1d([-2.5, -0.5, 0.5, 1.5, 2.5, 3]);
    const p = tf.tensor1d([0.25, 0.5, 1, 2, 4, 9]);
    await expectNoLeakedTensors(async () => {
      const run = await traceAndRun([x, p], (t, q) => [
        tf.neg(t), tf.abs(t), tf.sign(t), tf.sigmoid(t), tf.tanh(t), tf.softplus(t), tf.erf(t), tf.elu(t), tf.relu6(tf.mul(t, tf.scalar(3))), tf.leakyRelu(t, 0.1),
        tf.floor(t), tf.ceil(t), tf.round(t), tf.square(t), tf.exp(t), tf.sqrt(q), tf.rsqrt(q), tf.log(q), tf.log1p(q), tf.reciprocal(q), tf.isNaN(tf.div(t, t)),
      ]);
      // by hand: tfjs rounds half to even: round([-2.5, -0.5, 0.5, 1.5, 2.5]) = [-2, -0, 0, 2, 2]
      expect(run.expected[12]!.data.map((v) => v + 0)).toEqual([-2, 0, 0, 2, 2, 3]);
      expect(run.expected[16]!.data).toEqual([2, Math.SQRT2, 1, Math.SQRT1_2, 0.5, 1 / 3].map(Math.fround));
      run.actual.forEach((a, i) => expect({ i, d: maxAbsDifference(a, run.expected[i]!) <= 1e-6 }).toEqual({ i, d: true }));
    });
    tf.dispose([x, p]);
  });

  it('Softplus, Sigmoid and Tanh stay finite at large |x|', async () => {
    const x = tf.tensor1d([-100, -30, 30, 100]);
    await expectNoLeakedTensors(async () => {
      const run = await traceAndRun([x], (t) => [tf.softplus(t), tf.sigmoid(t), tf.tanh(t)]);
      // by hand: softplus(x) = log(1 + eˣ) ≈ x for large x, ≈ 0 for very negative x
      expect(run.expected[0]!.data[3]).toBe(100);
      run.actual.forEach((a, i) => expect(maxAbsDifference(a, run.expected[i]!)).toBeLessThanOrEqual(1e-5));
    });
    x.dispose();
  });

  it('binary kernels: Maximum/Minimum of int32, Pow, SquaredDifference, AddN, ClipByValue', async () => {
    const a = tf.tensor1d([1, -2, 3]);
    const n = tf.tensor1d([4, -5, 6], 'int32');
    await expectNoLeakedTensors(async () => {
      const run = await traceAndRun([a, n], (x, i) => [
        tf.maximum(i, tf.scalar(0, 'int32')), tf.minimum(x, tf.scalar(0)), tf.pow(x, tf.scalar(2)), tf.squaredDifference(x, tf.scalar(1)),
        tf.addN([x, x, x]), tf.clipByValue(x, -1, 2), tf.clipByValue(i, 0, 5),
      ]);
      expect(run.expected.map((r) => r.data)).toEqual([[4, 0, 6], [0, -2, 0], [1, 4, 9], [0, 9, 4], [3, -6, 9], [1, -1, 2], [4, 0, 5]]);
      expect(run.actual).toEqual(run.expected);
    });
    tf.dispose([a, n]);
  });

  it('FloorDiv and Mod floor toward −∞ for int32 and float32 (ONNX int Div truncates, float Mod is fmod)', async () => {
    const a = tf.tensor1d([7, -7, 7, -7, 6, 0], 'int32');
    const b = tf.tensor1d([2, 2, -2, -2, 3, 5], 'int32');
    await expectNoLeakedTensors(async () => {
      const run = await traceAndRun([a, b], (x, y) => [tf.floorDiv(x, y), tf.mod(x, y), tf.floorDiv(tf.cast(x, 'float32'), tf.cast(y, 'float32')), tf.mod(tf.cast(x, 'float32'), tf.cast(y, 'float32'))]);
      // by hand: ⌊7/2⌋ = 3, ⌊−7/2⌋ = −4, ⌊7/−2⌋ = −4, ⌊−7/−2⌋ = 3; 7 mod 2 = 1, −7 mod 2 = 1, 7 mod −2 = −1, −7 mod −2 = −1
      expect(run.expected[0]!.data).toEqual([3, -4, -4, 3, 2, 0]);
      expect(run.expected[1]!.data).toEqual([1, 1, -1, -1, 0, 0]);
      expect(run.actual).toEqual(run.expected);
    });
    tf.dispose([a, b]);
  });
});
