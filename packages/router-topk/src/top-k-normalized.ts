import * as tf from '@tensorflow/tfjs-core';
import { chosenExpertsMask } from '@moekit/core';

/**
 * DeepSeek-V3's top-k normalisation (https://arxiv.org/abs/2412.19437, §2.1.2 Eqs. 13-14):
 * `g_i = s_i / Σ_{j ∈ chosen} s_j` at the chosen experts `chosen` `[T, K]`, exactly 0 elsewhere, from
 * the affinities `scores` `[T, E]` (sigmoid, Eq. 15) — never from the biased selection scores.
 * Differentiable in `scores`. The denominator gets DeepSeek's `+ 1e-20` (a row whose chosen
 * affinities are all 0, e.g. excluded experts only, gives gates 0, not NaN).
 * @internal
 */
export function topKNormalized(scores: tf.Tensor2D, chosen: tf.Tensor2D, numExperts: number): tf.Tensor2D {
  return tf.tidy(() => {
    const keep = chosenExpertsMask(chosen, numExperts); // [T, E] 1 at the chosen experts
    const kept = tf.mul(scores, keep); // [T, E] g' (Eq. 14)
    return tf.div(kept, tf.add(tf.sum(kept, 1, true), 1e-20)) as tf.Tensor2D; // [T, E] g = g' / Σ g' (Eq. 13)
  });
}
