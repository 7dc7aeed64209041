import * as tf from '@tensorflow/tfjs-core';
import { checkRank } from '../util/validate.js';

/**
 * Router z-loss, Zoph et al. 2022 (ST-MoE, arXiv:2202.08906) Eq. 5:
 * `(1/T) Σ_x (log Σ_j exp(logits_xj))²`, unweighted (ST-MoE weights it by 1e-3). Keeps router
 * logits small, which keeps the softmax stable in low precision.
 *
 * @param logits `[T, E]` router logits.
 */
export function routerZLoss(logits: tf.Tensor2D): tf.Scalar {
  checkRank('routerZLoss', 'logits', logits, 2);
  return tf.tidy(() => tf.mean(tf.square(tf.logSumExp(logits, 1))) as tf.Scalar);
}
