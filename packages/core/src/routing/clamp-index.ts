import * as tf from '@tensorflow/tfjs-core';

/**
 * int32 `indices` clamped to `[0, size − 1]`, for a `gather` whose out-of-range entries are masked
 * afterwards (`-1` for an unused choice). Built from `maximum` / `minimum`: the wasm backend's
 * `ClipByValue` treats int32 data as float32 and leaves large indices unclamped (TFJS notes).
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { clampIndex } from '@moekit/core';
 *
 * const rows = tf.gather(offsets, clampIndex(expertIndex, numExperts)); // -1 reads row 0, masked later
 * ```
 */
export function clampIndex(indices: tf.Tensor, size: number): tf.Tensor {
  return tf.tidy(() => tf.minimum(tf.maximum(indices, tf.scalar(0, 'int32')), tf.scalar(size - 1, 'int32')));
}
