import * as tf from '@tensorflow/tfjs-core';
import { expectNoLeakedTensors } from '@moekit/core/testing';
import { describe, expect, it } from 'vitest';
import { traceAndRun } from '../testing/trace-and-run.js';

describe('shape converters', () => {
  it('ExpandDims, Squeeze, Transpose, Tile, Concat (negative axis), Pack, PadV2', async () => {
    const x = tf.tensor2d([[1, 2, 3], [4, 5, 6]]);
    const n = tf.tensor1d([7, 8], 'int32');
    await expectNoLeakedTensors(async () => {
      const run = await traceAndRun([x, n], (t, i) => [
        tf.expandDims(t, 1), tf.squeeze(tf.reshape(t, [1, 2, 1, 3]), [0, 2]), tf.transpose(t), tf.tile(i, [2]),
        tf.concat([t, t], -1), tf.stack([i, i, i], 1), tf.stack([t, t]), tf.pad(i, [[1, 2]], -1), tf.cast(t, 'bool'),
      ]);
      expect(run.expected[1]!.dims).toEqual([2, 3]);
      expect(run.expected[5]!.data).toEqual([7, 7, 7, 8, 8, 8]);
      expect(run.expected[7]!.data).toEqual([-1, 7, 8, -1, -1]);
      expect(run.actual).toEqual(run.expected);
    });
    tf.dispose([x, n]);
  });
});
