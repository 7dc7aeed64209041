import * as tf from '@tensorflow/tfjs-core';
import { chosenExpertsMask } from '@moekit/core';

/**
 * `Softmax(KeepTopK(logits, k))` (Shazeer et al. 2017, Eq. 3, 5): a softmax over the chosen experts
 * only, exactly 0 elsewhere; `chosen` `[T, K]` are the experts kept. Differentiable in `logits`.
 * @internal
 */
export function topKSoftmax(logits: tf.Tensor2D, chosen: tf.Tensor2D, numExperts: number): tf.Tensor2D {
  return tf.tidy(() => {
    const keep = chosenExpertsMask(chosen, numExperts); // [T, E] 1 at the top k
    const masked = tf.add(logits, tf.mul(tf.sub(1, keep), -1e9)); // KeepTopK: −∞ (−1e9) elsewhere
    return tf.mul(tf.softmax(masked), keep) as tf.Tensor2D;
  });
}
