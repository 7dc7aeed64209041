import * as tf from '@tensorflow/tfjs-core';
import { expectNoLeakedTensors } from '@moekit/core/testing';
import { describe, expect, it } from 'vitest';
import { traceAndRun } from '../testing/trace-and-run.js';

describe('scatter converters', () => {
  it('ScatterNd sums duplicate indices, float32 and int32', async () => {
    const indices = tf.tensor2d([[0], [2], [0]], undefined, 'int32');
    const updates = tf.tensor1d([1, 2, 3]);
    await expectNoLeakedTensors(async () => {
      const run = await traceAndRun([indices, updates], (i, u) => [tf.scatterND(i, u, [4]), tf.scatterND(i, tf.cast(u, 'int32'), [4])]);
      expect(run.expected.map((r) => r.data)).toEqual([[4, 0, 2, 0], [4, 0, 2, 0]]);
      expect(run.actual).toEqual(run.expected);
    });
    tf.dispose([indices, updates]);
  });

  it('UnsortedSegmentSum drops ids outside [0, numSegments) as tfjs does; TensorScatterUpdate', async () => {
    const x = tf.tensor2d([[1, 2], [3, 4], [5, 6], [7, 8]]);
    const ids = tf.tensor1d([1, -1, 1, 3], 'int32');
    await expectNoLeakedTensors(async () => {
      const run = await traceAndRun([x, ids], (t, s) => [
        tf.unsortedSegmentSum(t, s as tf.Tensor1D, 3),
        // a copy: tfjs 4.22's cpu TensorScatterUpdate also writes into its input (here the graph input)
        tf.tensorScatterUpdate(tf.mul(t, tf.scalar(1)), tf.tensor2d([[2]], undefined, 'int32'), tf.tensor2d([[0, -1]])),
      ]);
      // by hand: segment 1 = rows 0 and 2 = [6, 8]; rows with ids -1 and 3 dropped
      expect(run.expected[0]!.data).toEqual([0, 0, 6, 8, 0, 0]);
      expect(run.expected[1]!.data).toEqual([1, 2, 3, 4, 0, -1, 7, 8]);
      expect(run.actual).toEqual(run.expected);
    });
    tf.dispose([x, ids]);
  });
});
