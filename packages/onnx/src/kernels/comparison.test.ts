import * as tf from '@tensorflow/tfjs-core';
import { expectNoLeakedTensors } from '@moekit/core/testing';
import { describe, expect, it } from 'vitest';
import { traceAndRun } from '../testing/trace-and-run.js';

describe('comparison, logic and Select converters', () => {
  it('compares float32 and int32 with broadcasting', async () => {
    const a = tf.tensor2d([[1, 2, 3], [3, 2, 1]]);
    const n = tf.tensor1d([0, 2, 4], 'int32');
    await expectNoLeakedTensors(async () => {
      const run = await traceAndRun([a, n], (x, i) => [
        tf.equal(x, tf.scalar(2)), tf.notEqual(x, tf.scalar(2)), tf.less(x, tf.scalar(2)), tf.lessEqual(x, tf.scalar(2)),
        tf.greater(x, tf.scalar(2)), tf.greaterEqual(x, tf.scalar(2)), tf.less(i, tf.scalar(2, 'int32')), tf.equal(i, tf.tensor1d([0, 1, 4], 'int32')),
      ]);
      expect(run.expected.map((r) => r.data)).toEqual([
        [0, 1, 0, 0, 1, 0], [1, 0, 1, 1, 0, 1], [1, 0, 0, 0, 0, 1], [1, 1, 0, 0, 1, 1],
        [0, 0, 1, 1, 0, 0], [0, 1, 1, 1, 1, 0], [1, 0, 0], [1, 0, 1],
      ]);
      expect(run.actual).toEqual(run.expected);
    });
    tf.dispose([a, n]);
  });

  it('LogicalAnd/Or/Xor/Not on bool', async () => {
    const p = tf.tensor1d([1, 1, 0, 0], 'bool');
    const q = tf.tensor1d([1, 0, 1, 0], 'bool');
    await expectNoLeakedTensors(async () => {
      const run = await traceAndRun([p, q], (x, y) => [tf.logicalAnd(x, y), tf.logicalOr(x, y), tf.logicalXor(x, y), tf.logicalNot(x)]);
      expect(run.expected.map((r) => r.data)).toEqual([[1, 0, 0, 0], [1, 1, 1, 0], [0, 1, 1, 0], [0, 0, 1, 1]]);
      expect(run.actual).toEqual(run.expected);
    });
    tf.dispose([p, q]);
  });

  it('Select (tfjs where) of float32, int32 and bool values', async () => {
    const c = tf.tensor1d([1, 0, 1], 'bool');
    const n = tf.tensor1d([7, 8, 9], 'int32');
    await expectNoLeakedTensors(async () => {
      const run = await traceAndRun([c, n], (cond, i) => [
        tf.where(cond, tf.tensor1d([1, 2, 3]), tf.tensor1d([-1, -2, -3])),
        tf.where(cond, i, tf.fill([3], -1, 'int32')),
        tf.where(cond, tf.logicalNot(cond), cond),
      ]);
      expect(run.expected.map((r) => r.data)).toEqual([[1, -2, 3], [7, -1, 9], [0, 0, 0]]);
      expect(run.actual).toEqual(run.expected);
    });
    tf.dispose([c, n]);
  });
});
