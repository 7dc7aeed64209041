import * as tf from '@tensorflow/tfjs-core';
import { withoutGradient } from './without-gradient.js';

/**
 * `[..., depth]` float32 one-hot of int32 `indices`, for any `depth ≥ 1`; an index outside
 * `[0, depth)` (e.g. `-1`, an unused choice) gives an all-zero row. One `OneHot` kernel (one write per
 * element), built as int32 and cast: tfjs's `oneHot` needs depth ≥ 2, and the stock wasm `OneHot`
 * writes int32 bits into a float32 output (TFJS-NOTES.md; `@moekit/platform` replaces that kernel).
 * A broadcast `equal` against a range, as this was first written, costs 2–3× as much on wasm
 * (issue 22's profile: 10 % of a step at E = 64). Off the gradient tape: indices carry none.
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
  return withoutGradient(indices, (idx) => tf.tidy(() => {
    const width = Math.max(depth, 2); // tfjs's oneHot needs depth ≥ 2
    const hot = tf.cast(tf.oneHot(idx, width, 1, 0, 'int32'), 'float32'); // [..., width]
    return width === depth ? hot : tf.slice(hot, hot.shape.map(() => 0), [...hot.shape.slice(0, -1), depth]);
  }));
}
