import * as tf from '@tensorflow/tfjs-core';
import { expectNoLeakedTensors } from '@moekit/core/testing';
import { describe, expect, it } from 'vitest';
import { traceAndRun } from '../testing/trace-and-run.js';

describe('creation converters', () => {
  it('Fill, ZerosLike, OnesLike and Range in each dtype', async () => {
    const x = tf.tensor2d([[1, 2], [3, 4]]);
    await expectNoLeakedTensors(async () => {
      const run = await traceAndRun([x], (t) => [
        tf.add(t, tf.fill([2, 2], 0.5)), tf.fill([3], -1, 'int32'), tf.zerosLike(t), tf.onesLike(tf.cast(t, 'int32')), tf.range(0, 6, 2, 'int32'), tf.range(1, 0, -0.25),
        tf.zerosLike(tf.greater(t, tf.scalar(2))),
      ]);
      expect(run.expected.map((r) => r.data)).toEqual([[1.5, 2.5, 3.5, 4.5], [-1, -1, -1], [0, 0, 0, 0], [1, 1, 1, 1], [0, 2, 4], [1, 0.75, 0.5, 0.25], [0, 0, 0, 0]]);
      expect(run.actual).toEqual(run.expected);
    });
    x.dispose();
  });
});
