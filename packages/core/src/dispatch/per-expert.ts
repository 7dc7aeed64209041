import * as tf from '@tensorflow/tfjs-core';

/**
 * Splits a batched expert weight `[E, ...]` into `E` tensors `[...]` (for grouped execution), on the
 * gradient tape. The same as `tf.unstack(weight)`, except for `E = 1`, where tfjs's `Unpack` gradient
 * fails ("Argument tensors passed to stack must be a Tensor[]": a single output's gradient arrives
 * as one tensor, not a list), so a squeeze is used instead.
 *
 * @example
 * ```ts
 * import { perExpert } from '@moekit/core';
 *
 * const w1 = perExpert(bank.w1); // E × [D, H]
 * ```
 */
export function perExpert(weight: tf.Tensor): tf.Tensor[] {
  return weight.shape[0] === 1 ? [tf.squeeze(weight, [0])] : tf.unstack(weight);
}

/**
 * Grouped execution's shared loop: splits `rows` `[N, ...in]` into the experts' consecutive groups,
 * applies `fn(group, e)` to each non-empty one, and concatenates the outputs `[N, outputWidth]`. An
 * expert with no rows gets an empty `[0, outputWidth]` block without calling `fn`, because tfjs cannot
 * take the gradient of a bias broadcast over zero rows (`[0, H] + [1, H]` fails in backprop). One
 * expert gets `rows` itself: tfjs's `SplitV` gradient fails for a single output, as `Unpack`'s does.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { applyPerGroup } from '@moekit/core';
 *
 * const y = applyPerGroup(rows, groupSizes, D, (group, e) => tf.matMul(group, w[e])); // [N, D]
 * ```
 */
export function applyPerGroup(rows: tf.Tensor, groupSizes: number[], outputWidth: number, fn: (group: tf.Tensor2D, expert: number) => tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    if (groupSizes.length === 1) return groupSizes[0] === 0 ? tf.zeros([0, outputWidth]) : fn(rows as tf.Tensor2D, 0);
    const groups = tf.split(rows, groupSizes, 0);
    return tf.concat(groups.map((g, e) => (groupSizes[e] === 0 ? tf.zeros([0, outputWidth]) : fn(g as tf.Tensor2D, e))), 0);
  });
}
