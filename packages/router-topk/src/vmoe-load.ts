import * as tf from '@tensorflow/tfjs-core';
import { MoEArgumentError, importanceLoss, selectTopK } from '@moekit/core';
import { normalCdf, pickPerRow } from './normal-cdf.js';

/**
 * V-MoE's load loss (Riquelme et al. 2021, "Scaling Vision with Sparse Mixture of Experts",
 * https://arxiv.org/abs/2106.05974, Appendix A; `vmoe/nn/routing.py` `_load_auxiliary_loss`): the
 * simplified smooth load of Shazeer et al. with one threshold per token, the k-th largest noisy
 * logit: `P(x, i) = 1 − Φ((threshold(x) − clean_i) / σ)`, `load = mean_x P(x, ·)`, loss `CV(load)²`
 * (population std). `σ` is the noise std (`noise_std / E`).
 *
 * @param cleanLogits `[T, E]` logits before noise.
 * @param noisyLogits `[T, E]` logits after noise.
 * @param noiseStd the noise std σ (> 0).
 * @param k experts chosen per token.
 */
export function vmoeLoad(cleanLogits: tf.Tensor2D, noisyLogits: tf.Tensor2D, noiseStd: number, k: number): tf.Scalar {
  if (!(noiseStd > 0)) throw new MoEArgumentError('vmoeLoad', 'noiseStd', 'a number > 0', String(noiseStd));
  const numExperts = cleanLogits.shape[1];
  if (!Number.isInteger(k) || k < 1 || k > numExperts) throw new MoEArgumentError('vmoeLoad', 'k', `an integer in [1, ${numExperts}]`, String(k));
  return tf.tidy(() => {
    const kth = tf.squeeze(tf.slice(selectTopK(noisyLogits, k), [0, k - 1], [-1, 1]), [1]) as tf.Tensor1D; // [T] index of the k-th largest
    const threshold = tf.expandDims(pickPerRow(noisyLogits, kth), 1); // [T, 1]
    const p = tf.sub(1, normalCdf(tf.div(tf.sub(threshold, cleanLogits), noiseStd))); // [T, E]
    return importanceLoss(tf.expandDims(tf.mean(p, 0), 0) as tf.Tensor2D); // CV(mean_x P)²
  });
}
