import * as tf from '@tensorflow/tfjs-core';
import { expectNoLeakedTensors } from '@moekit/core/testing';
import { describe, expect, it } from 'vitest';
import { maxAbsDifference, traceAndRun } from '../testing/trace-and-run.js';

describe('reduction and along-an-axis converters', () => {
  it('Sum/Mean/Max/Min/Prod over all axes, one axis, a negative axis and with keepDims', async () => {
    const x = tf.tensor2d([[1, -2, 3], [4, 0.5, -6]]);
    await expectNoLeakedTensors(async () => {
      const run = await traceAndRun([x], (t) => [tf.sum(t), tf.mean(t, 0), tf.max(t, -1), tf.min(t, 1, true), tf.prod(t, [0, 1]), tf.sum(t, -2, true)]);
      // by hand: sum 0.5; column means [2.5, -0.75, -1.5]; row maxima [3, 4]; row minima [[-2], [-6]]; product 1·−2·3·4·0.5·−6 = 72
      expect(run.expected.map((r) => r.data)).toEqual([[0.5], [2.5, -0.75, -1.5], [3, 4], [-2, -6], [72], [5, -1.5, -3]]);
      expect(run.expected[3]!.dims).toEqual([2, 1]);
      run.actual.forEach((a, i) => expect(maxAbsDifference(a, run.expected[i]!)).toBeLessThanOrEqual(1e-6));
    });
    x.dispose();
  });

  it('Sum of int32 and of bool (tfjs sums bool as int32), All and Any', async () => {
    const n = tf.tensor2d([[1, 2], [3, -4]], undefined, 'int32');
    const b = tf.tensor2d([[1, 0], [1, 1]], undefined, 'bool');
    await expectNoLeakedTensors(async () => {
      const run = await traceAndRun([n, b], (i, m) => [tf.sum(i, 1), tf.sum(m), tf.all(m, 1), tf.any(m, 0)]);
      expect(run.expected.map((r) => r.data)).toEqual([[3, -1], [3], [0, 1], [1, 1]]);
      expect(run.actual).toEqual(run.expected);
    });
    tf.dispose([n, b]);
  });

  it('ArgMax/ArgMin take the first index on ties, as int32', async () => {
    const x = tf.tensor2d([[1, 3, 3], [2, 2, 0]]);
    await expectNoLeakedTensors(async () => {
      const run = await traceAndRun([x], (t) => [tf.argMax(t, 1), tf.argMin(t, -1), tf.argMax(t, 0)]);
      expect(run.expected.map((r) => r.data)).toEqual([[1, 0], [0, 2], [1, 0, 0]]);
      expect(run.actual).toEqual(run.expected);
    });
    x.dispose();
  });

  it('Cumsum: inclusive, exclusive, reverse, float32 and int32', async () => {
    const x = tf.tensor2d([[1, 2, 3], [4, 5, 6]]);
    const n = tf.tensor1d([1, 0, 1, 1], 'int32');
    await expectNoLeakedTensors(async () => {
      const run = await traceAndRun([x, n], (t, i) => [tf.cumsum(t, 1), tf.cumsum(t, 0, true), tf.cumsum(t, 1, false, true), tf.cumsum(i, 0, true)]);
      expect(run.expected.map((r) => r.data)).toEqual([[1, 3, 6, 4, 9, 15], [0, 0, 0, 1, 2, 3], [6, 5, 3, 15, 11, 6], [0, 1, 1, 2]]);
      expect(run.actual).toEqual(run.expected);
    });
    tf.dispose([x, n]);
  });

  it('Softmax along the last axis and LogSoftmax', async () => {
    const x = tf.tensor2d([[0, Math.log(3)], [1, 1]]);
    await expectNoLeakedTensors(async () => {
      const run = await traceAndRun([x], (t) => [tf.softmax(t), tf.logSoftmax(t)]);
      // by hand: softmax([0, ln 3]) = [1/4, 3/4]; equal logits give halves
      expect(maxAbsDifference(run.expected[0]!, { dims: [2, 2], data: [0.25, 0.75, 0.5, 0.5] })).toBeLessThan(1e-6);
      run.actual.forEach((a, i) => expect(maxAbsDifference(a, run.expected[i]!)).toBeLessThanOrEqual(1e-6));
    });
    x.dispose();
  });
});
