import * as tf from '@tensorflow/tfjs-core';

/**
 * Splits a batched expert weight `[E, ...]` into `E` tensors `[...]` (for grouped execution), on the
 * gradient tape. The same as `tf.unstack(weight)`, except for `E = 1`, where tfjs's `Unpack` gradient
 * fails ("Argument tensors passed to stack must be a Tensor[]": a single output's gradient arrives
 * as one tensor, not a list), so a squeeze is used instead.
 *
 * @example
 * ```ts
 * const w1 = perExpert(bank.w1); // E × [D, H]
 * ```
 */
export function perExpert(weight: tf.Tensor): tf.Tensor[] {
  return weight.shape[0] === 1 ? [tf.squeeze(weight, [0])] : tf.unstack(weight);
}
