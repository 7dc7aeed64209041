import * as tf from '@tensorflow/tfjs-core';
import { checkRank, MoEArgumentError, oneHotFloat } from '@moekit/core';

/**
 * Mean softmax cross-entropy of `logits` `[B, C]` against integer `labels` `[B]`:
 * `CE = −(1/B) Σ_b log softmax(z_b)_{y_b}`, the loss of standard (Madry et al. 2018, Eq. 2.1)
 * adversarial training when `logits` are the model's outputs on adversarial images.
 *
 * @example
 * ```ts
 * import { crossEntropy } from '@moekit/adversarial';
 *
 * const loss = crossEntropy(model.forward(xAdv, true).logits, labels); // scalar
 * ```
 */
export function crossEntropy(logits: tf.Tensor, labels: tf.Tensor1D): tf.Scalar {
  const where = 'crossEntropy';
  checkRank(where, 'logits', logits, 2);
  checkRank(where, 'labels', labels, 1);
  if (labels.shape[0] !== logits.shape[0]) throw new MoEArgumentError(where, 'labels', `length ${logits.shape[0]} (one per row of logits)`, `length ${labels.shape[0]}`);
  return tf.tidy(() => {
    const logProbs = tf.logSoftmax(logits); // [B, C]
    const target = oneHotFloat(tf.cast(labels, 'int32'), logits.shape[1]!); // [B, C], off the tape
    return tf.neg(tf.mean(tf.sum(tf.mul(target, logProbs), 1))) as tf.Scalar;
  });
}
