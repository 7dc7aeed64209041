import * as tf from '@tensorflow/tfjs-core';
import { expectNoLeakedTensors } from '@moekit/core/testing';
import { describe, expect, it } from 'vitest';
import { traceAndRun } from '../testing/trace-and-run.js';

describe('selection converters', () => {
  it('TopK: largest first, the lower index first on ties, int32 indices, -Infinity last', async () => {
    const x = tf.tensor2d([[0.5, 2, 2, -1], [-Infinity, 0, 3, 0]]);
    await expectNoLeakedTensors(async () => {
      const run = await traceAndRun([x], (t) => Object.values(tf.topk(t, 3)));
      expect(run.expected[1]!.data).toEqual([1, 2, 0, 2, 1, 3]);
      expect(run.expected[0]!.data).toEqual([2, 2, 0.5, 3, 0, 0]);
      expect(run.actual).toEqual(run.expected);
    });
    x.dispose();
  });

  it('TopK of int32', async () => {
    const x = tf.tensor1d([3, 9, 1, 9], 'int32');
    await expectNoLeakedTensors(async () => {
      const run = await traceAndRun([x], (t) => Object.values(tf.topk(t, 2)));
      expect(run.expected.map((r) => r.data)).toEqual([[9, 9], [1, 3]]);
      expect(run.actual).toEqual(run.expected);
    });
    x.dispose();
  });

  it('OneHot: -1 and an index ≥ depth give all-off rows (ONNX OneHot would wrap -1), custom on/off values', async () => {
    const indices = tf.tensor1d([0, 2, -1, 3], 'int32');
    await expectNoLeakedTensors(async () => {
      const run = await traceAndRun([indices], (i) => [tf.oneHot(i, 3), tf.oneHot(i, 3, 5, -2, 'float32')]);
      expect(run.expected[0]!.data).toEqual([1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0]);
      expect(run.expected[1]!.data).toEqual([5, -2, -2, -2, -2, 5, -2, -2, -2, -2, -2, -2]);
      expect(run.actual).toEqual(run.expected);
    });
    indices.dispose();
  });

  it('OneHot of [T, K] indices gives [T, K, depth]', async () => {
    const indices = tf.tensor2d([[1, 0], [2, 1]], undefined, 'int32');
    await expectNoLeakedTensors(async () => {
      const run = await traceAndRun([indices], (i) => tf.oneHot(i, 3));
      expect(run.actual[0]!.dims).toEqual([2, 2, 3]);
      expect(run.actual).toEqual(run.expected);
    });
    indices.dispose();
  });
});
