import * as tf from '@tensorflow/tfjs-core';
import { checkRank } from '../util/validate.js';

/**
 * KL-to-uniform balance loss, the second soft constraint of Pavlitska et al. 2022 ("Sparsely-gated
 * Mixture-of-Expert Layers for CNN Interpretability", arXiv:2204.10598): `KL(U ‖ p̄) =
 * Σ_i (1/E) · log((1/E) / p̄_i)` with `p̄ = mean_x probs(x)` the batch's expert distribution.
 * We take the divergence from the uniform `U` (not to it) because it grows without bound as an expert's
 * share falls to 0, which is the collapse the constraint exists to prevent. `p̄` is clamped at 1e-10,
 * so the value and gradient are finite; both are 0 at perfect balance.
 *
 * @param probs `[T, E]` router probabilities (rows sum to 1).
 */
export function klToUniformLoss(probs: tf.Tensor2D): tf.Scalar {
  checkRank('klToUniformLoss', 'probs', probs, 2);
  const numExperts = probs.shape[1];
  return tf.tidy(() => {
    const share = tf.maximum(tf.mean(probs, 0), 1e-10); // [E] p̄
    const uniform = 1 / numExperts;
    return tf.mul(uniform, tf.sum(tf.sub(Math.log(uniform), tf.log(share)))) as tf.Scalar;
  });
}
