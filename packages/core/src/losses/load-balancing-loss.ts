import * as tf from '@tensorflow/tfjs-core';
import { loadBalancingConventions, type LoadBalancingConventionName } from './load-balancing-conventions.js';
import { checkExpertIndexShape } from '../routing/check-expert-index.js';
import { oneHotFloat } from '../util/one-hot-float.js';
import { MoEArgumentError } from '../util/errors.js';
import { checkInteger, checkOneOf, checkShape, rejectUnknownOptions } from '../util/validate.js';
import { offTape } from '../util/without-gradient.js';

/** Options of {@link loadBalancingLoss}. */
export interface LoadBalancingLossOptions {
  /** Which library's arithmetic (see {@link loadBalancingConventions}). Default `'switch'`. */
  convention?: LoadBalancingConventionName;
  /**
   * Split the `T` tokens into `G` equal contiguous groups, compute the loss in each, and return their
   * mean (HF `switch_transformers` over `[G, T/G, E]`; the groups are its batch rows). `T` must be
   * divisible by `G`. Default 1.
   */
  numGroups?: number;
}

const LOAD_BALANCING_OPTIONS: readonly (keyof LoadBalancingLossOptions)[] = ['convention', 'numGroups'];

/**
 * Load-balancing loss, Fedus et al. 2021 (arXiv:2101.03961), Eqs. 4-6: `E · Σ_i f_i · P_i` with
 * `f_i` the fraction of tokens whose first choice is expert `i` and `P_i` the mean router probability
 * of expert `i`. Equals 1 at perfect balance; unweighted (the router multiplies by its `α`).
 * `convention` selects DeepSpeed's or HF Mixtral's variant (`f` over all `K` choices, divided by `K`
 * or not; see {@link loadBalancingConventions}), `numGroups` HF Switch's mean over token groups.
 * Gradient reaches `probs` only (`f` is a count, taken on the device from a one-hot of the choices:
 * no host read; a choice outside `[0, E)` counts for no expert).
 *
 * @param probs `[T, E]` router probabilities.
 * @param expertIndex `[T, K]` int32 choices; column 0 only (`'switch'`) or every column is counted.
 * @param numExperts `E`.
 * @example
 * ```ts
 * import { loadBalancingLoss } from '@moekit/core';
 *
 * const loss = loadBalancingLoss(probs, expertIndex, 4); // scalar, Switch's
 * const deepspeed = loadBalancingLoss(probs, expertIndex, 4, { convention: 'deepspeed' }); // topkgating's l_aux
 * ```
 */
export function loadBalancingLoss(probs: tf.Tensor2D, expertIndex: tf.Tensor2D, numExperts: number, options: LoadBalancingLossOptions = {}): tf.Scalar {
  const where = 'loadBalancingLoss';
  rejectUnknownOptions(where, options, LOAD_BALANCING_OPTIONS);
  checkInteger(where, 'numExperts', numExperts, 1);
  const conventionName = options.convention ?? 'switch';
  checkOneOf(where, 'convention', conventionName, Object.keys(loadBalancingConventions) as LoadBalancingConventionName[]);
  const numGroups = options.numGroups ?? 1;
  checkInteger(where, 'numGroups', numGroups, 1);
  checkShape(where, 'probs', probs, [probs.shape[0], numExperts]);
  checkExpertIndexShape(where, expertIndex, numExperts);
  checkShape(where, 'expertIndex', expertIndex, [probs.shape[0], expertIndex.shape[1]]);
  const [numTokens, k] = expertIndex.shape;
  if (numTokens % numGroups !== 0) {
    throw new MoEArgumentError(where, 'numGroups', `a divisor of the token count ${numTokens}`, String(numGroups));
  }
  const { countedChoices, divideByK } = loadBalancingConventions[conventionName];
  const groupSize = numTokens / numGroups;
  return tf.tidy(() => {
    const counted = countedChoices === 'first' ? tf.slice(expertIndex, [0, 0], [-1, 1]) : expertIndex; // [T, K'] the choices f counts
    const f = offTape(() => {
      const oneHot = oneHotFloat(tf.reshape(counted, [-1]), numExperts); // [T·K', E], zero rows for choices outside [0, E)
      const perToken = tf.sum(tf.reshape(oneHot, [numGroups, groupSize, counted.shape[1], numExperts]), 2); // [G, T/G, E] pairs per token
      return tf.div(tf.sum(perToken, 1), groupSize); // [G, E] f: counted pairs per token routed to each expert (a constant)
    });
    const p = tf.mean(tf.reshape(probs, [numGroups, groupSize, numExperts]), 1); // [G, E] mean router probability
    const scale = divideByK ? numExperts / k : numExperts; // E, or E/K (DeepSpeed topkgating)
    return tf.mul(scale / numGroups, tf.sum(tf.mul(f, p))) as tf.Scalar; // mean over groups of scale · Σ_i f_i · P_i
  });
}
