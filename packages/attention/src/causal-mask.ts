import * as tf from '@tensorflow/tfjs-core';

/**
 * The additive causal mask `[S, S]`: 0 where key `j` may be seen from query `i` (`j ≤ i`), −1e9
 * elsewhere (HF adds `finfo(float32).min`; any number whose exp underflows to 0 gives the same softmax).
 */
export function causalMask(seqLen: number): tf.Tensor2D {
  return tf.tidy(() => {
    const query = tf.expandDims(tf.range(0, seqLen, 1, 'int32'), 1); // [S, 1]
    const key = tf.expandDims(tf.range(0, seqLen, 1, 'int32'), 0); // [1, S]
    return tf.where(tf.lessEqual(key, query), tf.zeros([seqLen, seqLen]), tf.fill([seqLen, seqLen], -1e9)) as tf.Tensor2D; // [S, S]
  });
}
