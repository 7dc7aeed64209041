import * as tf from '@tensorflow/tfjs-core';
import { checkInteger, checkRank, checkShape } from '../validate.js';
import { readExpertIndex } from '../assign-slots.js';

/**
 * Switch Transformer load-balancing loss, Fedus et al. 2021 (arXiv:2101.03961), Eqs. 4-6:
 * `E · Σ_i f_i · P_i` with `f_i` the fraction of tokens whose first choice is expert `i` and `P_i`
 * the mean router probability of expert `i`. Equals 1 at perfect balance; unweighted (the router
 * multiplies by its `α`). Gradient reaches `probs` only (`f` is a count).
 *
 * @param probs `[T, E]` router probabilities.
 * @param expertIndex `[T, K]` int32 choices; only column 0 (the first choice) is counted.
 * @param numExperts `E`.
 * @example
 * ```ts
 * const loss = loadBalancingLoss(probs, expertIndex, 4); // scalar
 * ```
 */
export function loadBalancingLoss(probs: tf.Tensor2D, expertIndex: tf.Tensor2D, numExperts: number): tf.Scalar {
  const where = 'loadBalancingLoss';
  checkInteger(where, 'numExperts', numExperts, 1);
  checkShape(where, 'probs', probs, [probs.shape[0], numExperts]);
  checkRank(where, 'expertIndex', expertIndex, 2);
  checkShape(where, 'expertIndex', expertIndex, [probs.shape[0], expertIndex.shape[1]]);
  const firstChoice = readExpertIndex(where, expertIndex, numExperts).filter((_, i) => i % expertIndex.shape[1] === 0);
  const numTokens = probs.shape[0];
  const counts = new Float32Array(numExperts);
  for (const e of firstChoice) if (e >= 0) counts[e]! += 1;
  return tf.tidy(() => {
    const f = tf.div(tf.tensor1d(counts), numTokens); // [E] fraction of tokens routed to each expert
    const p = tf.mean(probs, 0); // [E] mean router probability
    return tf.mul(numExperts, tf.sum(tf.mul(f, p))) as tf.Scalar;
  });
}
