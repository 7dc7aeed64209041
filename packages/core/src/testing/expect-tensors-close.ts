import * as tf from '@tensorflow/tfjs-core';

/** Tolerances of {@link expectTensorsClose}: `|a − b| ≤ atol + rtol · |b|` elementwise. */
export interface CloseOptions {
  /** Absolute tolerance. Default 1e-5 (float32 arithmetic on the cpu backend). */
  atol?: number;
  /** Relative tolerance. Default 1e-5. */
  rtol?: number;
}

/** A number or nested arrays of numbers, as `tf.tensor` accepts. */
export type NestedNumbers = number | NestedNumbers[];

/**
 * Throws (with the first mismatching index and both values) unless `actual` equals `expected` in
 * shape and, elementwise, within the tolerances. Works with any test runner.
 *
 * @example
 * ```ts
 * import { expectTensorsClose } from '@moekit/core/testing';
 *
 * expectTensorsClose(y, [[1, 2], [3, 4]], { atol: 1e-6 });
 * ```
 */
export function expectTensorsClose(actual: tf.Tensor, expected: tf.Tensor | NestedNumbers, options: CloseOptions = {}): void {
  const atol = options.atol ?? 1e-5;
  const rtol = options.rtol ?? 1e-5;
  const expectedTensor = expected instanceof tf.Tensor ? expected : tf.tensor(expected);
  try {
    if (actual.shape.length !== expectedTensor.shape.length || actual.shape.some((d, i) => d !== expectedTensor.shape[i])) {
      throw new Error(`expectTensorsClose: shape [${actual.shape.join(', ')}] differs from expected [${expectedTensor.shape.join(', ')}]`);
    }
    const a = actual.dataSync();
    const b = expectedTensor.dataSync();
    for (let i = 0; i < a.length; i++) {
      const x = Number(a[i]);
      const y = Number(b[i]);
      const ok = x === y || (Number.isFinite(x) && Number.isFinite(y) && Math.abs(x - y) <= atol + rtol * Math.abs(y));
      if (!ok) {
        throw new Error(`expectTensorsClose: at flat index ${i} got ${x}, expected ${y} (atol ${atol}, rtol ${rtol})`);
      }
    }
  } finally {
    if (expectedTensor !== expected) expectedTensor.dispose();
  }
}
