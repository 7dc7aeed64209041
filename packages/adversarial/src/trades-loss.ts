import * as tf from '@tensorflow/tfjs-core';
import { checkNonNegative } from '@moekit/core';
import { crossEntropy } from './cross-entropy.js';
import { softmaxKlDivergence } from './softmax-kl-divergence.js';

/** Inputs of {@link tradesLoss}. */
export interface TradesLossArgs {
  /** `[B, C]` the model's logits on the clean images. */
  cleanLogits: tf.Tensor;
  /** `[B, C]` the model's logits on the adversarial images. */
  adversarialLogits: tf.Tensor;
  /** `[B]` integer class labels. */
  labels: tf.Tensor1D;
  /** Weight `β ≥ 0` of the robust (KL) term. Default 6, TRADES' and AdvMoE's setting. */
  beta?: number;
}

/** The TRADES loss as a weighted total with its unweighted parts. The caller owns the tensors. */
export interface TradesLoss {
  /** `natural + β · robust`. */
  total: tf.Scalar;
  /** `CE(f(x), y)`, the clean cross-entropy. */
  natural: tf.Scalar;
  /** `KL(f(x) ‖ f(x'))`, unweighted. */
  robust: tf.Scalar;
}

/**
 * TRADES (Zhang et al. 2019, "Theoretically Principled Trade-off between Robustness and Accuracy",
 * Eq. 5): `L = CE(f(x), y) + β · KL(softmax f(x) ‖ softmax f(x'))`, with `x'` the adversarial images
 * (found by maximising the same KL). AdvMoE trains both of its steps on it.
 *
 * @example
 * ```ts
 * import { tradesLoss } from '@moekit/adversarial';
 *
 * const { total, natural, robust } = tradesLoss({ cleanLogits, adversarialLogits, labels, beta: 6 });
 * ```
 */
export function tradesLoss(args: TradesLossArgs): TradesLoss {
  const beta = args.beta ?? 6;
  checkNonNegative('tradesLoss', 'beta', beta);
  return tf.tidy(() => {
    const natural = crossEntropy(args.cleanLogits, args.labels);
    const robust = softmaxKlDivergence(args.cleanLogits, args.adversarialLogits);
    const total = tf.add(natural, tf.mul(beta, robust)) as tf.Scalar; // TRADES Eq. 5
    return { total, natural, robust };
  });
}
