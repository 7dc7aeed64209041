import * as tf from '@tensorflow/tfjs-core';
import { MoEArgumentError, selectTopK, withoutGradient } from '@moekit/core';
import { normalCdf, pickPerRow } from './normal-cdf.js';

/**
 * The smooth load estimator of Shazeer et al. 2017 ("Outrageously Large Neural Networks",
 * arXiv:1701.06538), Appendix A, Eqs. 8-10: the probability that expert `i` stays in the top k
 * when only its own noise is redrawn,
 * `P(x, i) = Φ((clean_i − kth_excluding(H, k, i)) / std_i)`, and `Load_i = Σ_x P(x, i)`.
 * `kth_excluding(H, k, i)` is the k-th largest noisy logit among the others: the (k+1)-th largest of
 * `H` when `i` is in the top k, the k-th largest otherwise (as tensor2tensor's `_prob_in_top_k`).
 * Gradients reach the clean logits, the noise scale and the thresholds; the top-k selection itself is
 * off the tape. With `k = E` every expert is always selected: `Load_i = T`.
 *
 * @param cleanLogits `[T, E]` `x · W_g`.
 * @param noisyLogits `[T, E]` `H(x)`, the logits with noise added.
 * @param noiseStd `[T, E]` noise scale `Softplus(x · W_noise) + ε`, or one number for all.
 * @param k experts chosen per token.
 * @returns `[E]` the load of each expert.
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { importanceLoss } from '@moekit/core';
 * import { shazeerLoad } from '@moekit/router-topk';
 *
 * const load = shazeerLoad(clean, noisy, stddev, 2); // [E]
 * const lossLoad = importanceLoss(tf.expandDims(load, 0)); // CV(load)², Eq. 11
 * ```
 */
export function shazeerLoad(cleanLogits: tf.Tensor2D, noisyLogits: tf.Tensor2D, noiseStd: tf.Tensor2D | number, k: number): tf.Tensor1D {
  const where = 'shazeerLoad';
  if (cleanLogits.rank !== 2 || noisyLogits.rank !== 2 || cleanLogits.shape.some((d, i) => d !== noisyLogits.shape[i])) {
    throw new MoEArgumentError(where, 'noisyLogits', `shape [${cleanLogits.shape.join(', ')}] (that of cleanLogits)`, `shape [${noisyLogits.shape.join(', ')}]`);
  }
  const [numTokens, numExperts] = cleanLogits.shape;
  if (!Number.isInteger(k) || k < 1 || k > numExperts) {
    throw new MoEArgumentError(where, 'k', `an integer in [1, ${numExperts}]`, String(k));
  }
  if (typeof noiseStd === 'number' ? !(noiseStd > 0) : noiseStd.shape.some((d, i) => d !== cleanLogits.shape[i])) {
    throw new MoEArgumentError(where, 'noiseStd', `a positive number or shape [${numTokens}, ${numExperts}]`, typeof noiseStd === 'number' ? String(noiseStd) : `shape [${noiseStd.shape.join(', ')}]`);
  }
  return tf.tidy(() => tf.sum(probInTopK(cleanLogits, noisyLogits, noiseStd, k), 0) as tf.Tensor1D);
}

/**
 * `[T, E]` `P(x, i)` of {@link shazeerLoad}, before the sum over tokens (the hierarchical MoE sums it
 * over the tokens of one group only). Arguments as validated by `shazeerLoad`. @internal
 */
export function probInTopK(cleanLogits: tf.Tensor2D, noisyLogits: tf.Tensor2D, noiseStd: tf.Tensor2D | number, k: number): tf.Tensor2D {
  const numExperts = cleanLogits.shape[1];
  return tf.tidy(() => {
    if (k === numExperts) return tf.onesLike(cleanLogits);
    const top = selectTopK(noisyLogits, k + 1); // [T, k+1], off the tape
    const [kthIndex, nextIndex] = tf.unstack(tf.slice(top, [0, k - 1], [-1, 2]), 1) as [tf.Tensor1D, tf.Tensor1D];
    const thresholdIfIn = tf.expandDims(pickPerRow(noisyLogits, nextIndex), 1); // [T, 1] (k+1)-th largest
    const thresholdIfOut = tf.expandDims(pickPerRow(noisyLogits, kthIndex), 1); // [T, 1] k-th largest
    const isIn = withoutGradient(noisyLogits, (h) => tf.greater(h, thresholdIfIn)); // [T, E]
    const probIfIn = normalCdf(tf.div(tf.sub(cleanLogits, thresholdIfIn), noiseStd)); // [T, E]
    const probIfOut = normalCdf(tf.div(tf.sub(cleanLogits, thresholdIfOut), noiseStd)); // [T, E]
    return tf.where(isIn, probIfIn, probIfOut) as tf.Tensor2D;
  });
}
