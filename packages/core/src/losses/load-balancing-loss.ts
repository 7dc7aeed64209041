import * as tf from '@tensorflow/tfjs-core';
import { checkExpertIndexShape } from '../routing/check-expert-index.js';
import { expertOneHot } from '../routing/expert-one-hot.js';
import { checkInteger, checkShape } from '../util/validate.js';
import { offTape } from '../util/without-gradient.js';

/**
 * Switch Transformer load-balancing loss, Fedus et al. 2021 (arXiv:2101.03961), Eqs. 4-6:
 * `E · Σ_i f_i · P_i` with `f_i` the fraction of tokens whose first choice is expert `i` and `P_i`
 * the mean router probability of expert `i`. Equals 1 at perfect balance; unweighted (the router
 * multiplies by its `α`). Gradient reaches `probs` only (`f` is a count, taken on the device from a
 * one-hot of the first choices: no host read; a choice outside `[0, E)` counts for no expert).
 *
 * @param probs `[T, E]` router probabilities.
 * @param expertIndex `[T, K]` int32 choices; only column 0 (the first choice) is counted.
 * @param numExperts `E`.
 * @example
 * ```ts
 * import { loadBalancingLoss } from '@moekit/core';
 *
 * const loss = loadBalancingLoss(probs, expertIndex, 4); // scalar
 * ```
 */
export function loadBalancingLoss(probs: tf.Tensor2D, expertIndex: tf.Tensor2D, numExperts: number): tf.Scalar {
  const where = 'loadBalancingLoss';
  checkInteger(where, 'numExperts', numExperts, 1);
  checkShape(where, 'probs', probs, [probs.shape[0], numExperts]);
  checkExpertIndexShape(where, expertIndex, numExperts);
  checkShape(where, 'expertIndex', expertIndex, [probs.shape[0], expertIndex.shape[1]]);
  const numTokens = probs.shape[0];
  return tf.tidy(() => {
    const firstChoice = tf.reshape(tf.slice(expertIndex, [0, 0], [-1, 1]), [numTokens]); // [T]
    const f = offTape(() => tf.div(tf.sum(expertOneHot(firstChoice, numExperts), 0), numTokens)); // [E] fraction of tokens routed to each expert (a constant)
    const p = tf.mean(probs, 0); // [E] mean router probability
    return tf.mul(numExperts, tf.sum(tf.mul(f, p))) as tf.Scalar;
  });
}
