import * as tf from '@tensorflow/tfjs-core';
import { withoutGradient } from '../util/without-gradient.js';

/**
 * `[T, E]` float32 mask, 1 at the experts each token chose (`chosen` `[T, K]` int32), 0 elsewhere;
 * a choice outside `[0, E)` (`-1`: unused or skipped) marks nothing. The `KeepTopK` mask of
 * Shazeer et al. (2017, Eq. 5). Written as one `scatterND` of the `T·K` choices (column `E` takes
 * the out-of-range ones and is cut off), so it costs `O(T·K)` writes plus the `[T, E]` output —
 * not the `[T, K, E]` one-hot that summing `oneHotFloat(chosen, E)` over `K` builds (issue 22).
 * Choices of one token are distinct (top-k), so no entry exceeds 1. Off the gradient tape.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { chosenExpertsMask } from '@moekit/core';
 *
 * chosenExpertsMask(tf.tensor2d([[2, 0], [1, -1]], undefined, 'int32'), 3); // [[1, 0, 1], [0, 1, 0]]
 * ```
 */
export function chosenExpertsMask(chosen: tf.Tensor2D, numExperts: number): tf.Tensor2D {
  return withoutGradient(chosen, (idx) => tf.tidy(() => {
    const [T, K] = idx.shape as [number, number];
    const inRange = tf.logicalAnd(tf.greaterEqual(idx, 0), tf.less(idx, numExperts)); // [T, K]
    const column = tf.where(inRange, idx, tf.fill([T, K], numExperts, 'int32')); // [T, K] E for out-of-range
    const row = tf.tile(tf.expandDims(tf.range(0, T, 1, 'int32'), 1), [1, K]); // [T, K] t
    const indices = tf.stack([tf.reshape(row, [T * K]), tf.reshape(column, [T * K])], 1); // [T·K, 2]
    const mask = tf.scatterND(indices, tf.ones([T * K]), [T, numExperts + 1]); // [T, E + 1]
    return tf.slice(mask, [0, 0], [T, numExperts]);
  })) as tf.Tensor2D;
}
