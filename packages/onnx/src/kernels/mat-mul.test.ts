import * as tf from '@tensorflow/tfjs-core';
import { expectNoLeakedTensors } from '@moekit/core/testing';
import { describe, expect, it } from 'vitest';
import { maxAbsDifference, traceAndRun } from '../testing/trace-and-run.js';

describe('matrix product converters', () => {
  it('BatchMatMul with transposes, and _FusedMatMul with bias and each activation', async () => {
    const a = tf.tensor2d([[1, -2], [3, 0.5]]);
    const b = tf.tensor2d([[0.5, -1], [2, 1]]);
    const bias = tf.tensor1d([0.25, -3]);
    await expectNoLeakedTensors(async () => {
      const run = await traceAndRun([a], (x) => [
        tf.matMul(x, b, true, true),
        tf.fused.matMul({ a: x, b, bias }),
        ...(['relu', 'relu6', 'elu', 'sigmoid', 'leakyrelu'] as const).map((activation) => tf.fused.matMul({ a: x, b, bias, activation, transposeB: true })),
      ]);
      // by hand: a·b = [[-3.5, -3], [2.5, -2.5]] + bias = [[-3.25, -6], [2.75, -5.5]]
      expect(run.expected[1]!.data).toEqual([-3.25, -6, 2.75, -5.5]);
      run.actual.forEach((r, i) => expect(maxAbsDifference(r, run.expected[i]!)).toBeLessThanOrEqual(1e-6));
    });
    tf.dispose([a, b, bias]);
  });
});
