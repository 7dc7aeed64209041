import * as tf from '@tensorflow/tfjs-core';
import { withoutGradient } from './without-gradient.js';

/**
 * `[..., depth]` float32 one-hot of int32 `indices`, for any `depth ≥ 1` (tfjs's `oneHot` needs
 * depth ≥ 2, and the wasm backend's float32 `OneHot` writes int32 bits, TFJS-NOTES.md); an index
 * outside `[0, depth)` (e.g. `-1`, an unused choice) gives an all-zero row. Built with `equal`
 * against a range, off the gradient tape (tfjs has no gradient for `Equal`; indices carry none).
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { oneHotFloat } from '@moekit/core';
 *
 * oneHotFloat(tf.tensor1d([1, -1], 'int32'), 2); // [[0, 1], [0, 0]]
 * ```
 */
export function oneHotFloat(indices: tf.Tensor, depth: number): tf.Tensor {
  return withoutGradient(indices, (idx) => tf.tidy(() => tf.cast(tf.equal(tf.expandDims(idx, -1), tf.range(0, depth, 1, 'int32')), 'float32')));
}
