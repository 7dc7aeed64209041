import * as tf from '@tensorflow/tfjs-core';
import { MoEArgumentError } from '../util/errors.js';
import { describe } from '../util/validate.js';

/**
 * The logit given to an excluded expert: "−∞" for every purpose of a float32 router. `exp(−1e9 − m)`
 * underflows to exactly 0 in softmax, and unlike `-Infinity` it keeps `(−∞) − (−∞)` and `0 · ∞` out of
 * noise, load estimators and gradients (no NaN).
 */
export const EXCLUDED_LOGIT = -1e9;

/**
 * Pavlitska et al. 2022 (§3.3, hard constraint): experts over their utilisation threshold "get gate
 * logits −∞ for the next batch". Returns `scores` `[T, E]` with the excluded experts' columns set to
 * {@link EXCLUDED_LOGIT}, or `scores` itself when nothing is excluded. Routers call it on their clean
 * logits before noise, softmax and top-k when they declare the `'excludedExperts'` capability.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { excludeExperts } from '@moekit/core';
 *
 * const clean = excludeExperts(tf.matMul(gateInput, wg), options.excludedExperts); // [T, E]
 * ```
 */
export function excludeExperts(scores: tf.Tensor2D, excluded: readonly boolean[] | undefined): tf.Tensor2D {
  if (excluded === undefined || !excluded.includes(true)) {
    if (excluded !== undefined && excluded.length !== scores.shape[1]) {
      throw new MoEArgumentError('excludeExperts', 'excludedExperts', `${scores.shape[1]} flags (one per expert)`, describe(excluded.length));
    }
    return scores;
  }
  const E = scores.shape[1];
  if (excluded.length !== E) {
    throw new MoEArgumentError('excludeExperts', 'excludedExperts', `${E} flags (one per expert)`, describe(excluded.length));
  }
  if (excluded.every((x) => x)) {
    throw new MoEArgumentError('excludeExperts', 'excludedExperts', 'at least one expert left to choose', 'all excluded');
  }
  return tf.tidy(() => {
    const keep = tf.tensor2d([excluded.map((x) => !x)], [1, E], 'bool'); // [1, E]
    return tf.where(keep, scores, tf.fill(scores.shape, EXCLUDED_LOGIT)) as tf.Tensor2D;
  });
}
