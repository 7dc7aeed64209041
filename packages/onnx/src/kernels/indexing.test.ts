import * as tf from '@tensorflow/tfjs-core';
import { expectNoLeakedTensors } from '@moekit/core/testing';
import { describe, expect, it } from 'vitest';
import { traceAndRun } from '../testing/trace-and-run.js';

describe('indexing converters', () => {
  it('GatherV2 on axes 0 and 1, and with batchDims = axis = 1', async () => {
    const x = tf.tensor2d([[1, 2, 3], [4, 5, 6]]);
    const rows = tf.tensor1d([1, 0, 1], 'int32');
    const perRow = tf.tensor2d([[2, 0], [1, 1]], undefined, 'int32');
    await expectNoLeakedTensors(async () => {
      const run = await traceAndRun([x, rows, perRow], (t, r, p) => [tf.gather(t, r), tf.gather(t, r, 1), tf.gather(t, p, 1, 1), tf.gather(t, p, -1, -1)]);
      expect(run.expected.map((r) => r.data)).toEqual([[4, 5, 6, 1, 2, 3, 4, 5, 6], [2, 1, 2, 5, 4, 5], [3, 1, 5, 5], [3, 1, 5, 5]]);
      expect(run.actual).toEqual(run.expected);
    });
    tf.dispose([x, rows, perRow]);
  });

  it('Slice (size -1), StridedSlice (masks, negative stride, shrink and new axes), SplitV, Unpack', async () => {
    const x = tf.tensor2d([[1, 2, 3, 4], [5, 6, 7, 8], [9, 10, 11, 12]]);
    await expectNoLeakedTensors(async () => {
      const run = await traceAndRun([x], (t) => [
        tf.slice(t, [1, 1], [-1, 2]), tf.slice(t, 1),
        tf.stridedSlice(t, [0, 3], [3, 0], [2, -1]), tf.stridedSlice(t, [0, 0], [0, 4], [1, 2], 1, 0), tf.stridedSlice(t, [1, 0], [2, 4], [1, 1], 0, 0, 0, 0, 1),
        tf.stridedSlice(t, [0, 0], [3, 4], [1, -1], 0, 2), tf.stridedSlice(t, [0, 1], [0, 2], [1, 1], 0, 0, 0, 1),
        ...tf.split(t, [1, 3], 1), ...tf.unstack(t, 0), ...tf.unstack(tf.cast(t, 'int32'), 1),
      ]);
      expect(run.expected[0]!.data).toEqual([6, 7, 10, 11]);
      expect(run.expected[2]!.data).toEqual([4, 3, 2, 12, 11, 10]);
      expect(run.expected[4]!.data).toEqual([5, 6, 7, 8]);
      expect(run.expected[4]!.dims).toEqual([4]);
      expect(run.actual).toEqual(run.expected);
    });
    x.dispose();
  });
});
