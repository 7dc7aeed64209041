import * as tf from '@tensorflow/tfjs-core';
import { MoEArgumentError, selectTopK } from '@moekit/core';

/**
 * Mixtral's auxiliary load-balancing loss over every layer's router logits at once — HF's
 * `load_balancing_loss_func` (no attention mask), itself Switch's `E · Σ_i f_i · P_i` (Fedus et al.
 * 2021, Eq. 4) with `f_i` counting all `k` choices: the logits of all layers are stacked into
 * `[L·T, E]`, `P = mean softmax`, `f[j, i]` = the fraction of tokens whose `j`-th choice is `i`, and
 * the loss is `E · Σ_{j,i} f[j, i] · P_i`. The choices carry no gradient (the top-k is a selection).
 *
 * @param routerLogits each layer's `[T, E]` router logits.
 * @param k experts per token.
 * @example
 * ```ts
 * const aux = mixtralLoadBalancingLoss(routerLogits, 2); // scalar; a uniform router gives k
 * ```
 */
export function mixtralLoadBalancingLoss(routerLogits: readonly tf.Tensor2D[], k: number): tf.Scalar {
  const where = 'mixtralLoadBalancingLoss';
  if (routerLogits.length === 0) throw new MoEArgumentError(where, 'routerLogits', 'at least one layer', 'an empty list');
  const E = routerLogits[0]!.shape[1];
  if (!Number.isInteger(k) || k < 1 || k > E) throw new MoEArgumentError(where, 'k', `an integer in [1, ${E}]`, String(k));
  return tf.tidy(() => {
    const logits = tf.concat(routerLogits.map((l) => tf.cast(l, 'float32')), 0) as tf.Tensor2D; // [L·T, E]
    const probs = tf.softmax(logits); // [L·T, E]
    const chosen = selectTopK(logits, k); // [L·T, K] int32
    const mask = tf.oneHot(chosen, E, 1, 0, 'float32'); // [L·T, K, E]
    const tokensPerExpert = tf.mean(mask, 0); // [K, E] f
    const probPerExpert = tf.mean(probs, 0); // [E] P
    return tf.mul(tf.sum(tf.mul(tokensPerExpert, probPerExpert)), E) as tf.Scalar;
  });
}
