import * as tf from '@tensorflow/tfjs-core';
import { checkRank, MoEArgumentError } from '@moekit/core';

/**
 * Batch-mean KL divergence between the softmax distributions of two logit tensors `[B, C]`:
 * `KL(softmax(p) ‖ softmax(q)) = (1/B) Σ_b Σ_c P_bc (log P_bc − log Q_bc)`, TRADES' robust term
 * (Zhang et al. 2019, Eq. 5, with `p` the clean and `q` the adversarial logits; PyTorch's
 * `KLDivLoss(log_softmax(q), softmax(p))` summed then divided by `B`).
 *
 * @example
 * ```ts
 * import { softmaxKlDivergence } from '@moekit/adversarial';
 *
 * const kl = softmaxKlDivergence(cleanLogits, adversarialLogits); // scalar ≥ 0
 * ```
 */
export function softmaxKlDivergence(p: tf.Tensor, q: tf.Tensor): tf.Scalar {
  const where = 'softmaxKlDivergence';
  checkRank(where, 'p', p, 2);
  checkRank(where, 'q', q, 2);
  if (p.shape[0] !== q.shape[0] || p.shape[1] !== q.shape[1]) throw new MoEArgumentError(where, 'q', `shape [${p.shape.join(', ')}] (the shape of p)`, `shape [${q.shape.join(', ')}]`);
  return tf.tidy(() => {
    const logP = tf.logSoftmax(p); // [B, C]
    const logQ = tf.logSoftmax(q); // [B, C]
    return tf.mean(tf.sum(tf.mul(tf.exp(logP), tf.sub(logP, logQ)), 1)) as tf.Scalar;
  });
}
