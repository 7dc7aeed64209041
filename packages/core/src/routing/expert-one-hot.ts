import * as tf from '@tensorflow/tfjs-core';

/**
 * `[..., E]` float32 one-hot of int32 expert indices through the `OneHot` kernel (one write per
 * element, no broadcast comparison), any `E ≥ 1`; an index outside `[0, E)` (`-1`, an unused choice)
 * gives an all-zero row. Built as int32 and cast: the wasm backend's float32 `OneHot` writes int32
 * bits unless moekit's kernel replaces it (TFJS-NOTES.md). Indices carry no gradient. @internal
 */
export function expertOneHot(indices: tf.Tensor, numExperts: number): tf.Tensor {
  return tf.tidy(() => {
    const depth = Math.max(numExperts, 2); // tfjs's oneHot needs depth ≥ 2
    const hot = tf.cast(tf.oneHot(indices, depth, 1, 0, 'int32'), 'float32');
    return depth === numExperts ? hot : tf.slice(hot, [...hot.shape.slice(0, -1).map(() => 0), 0], [...hot.shape.slice(0, -1), numExperts]);
  });
}
