import * as tf from '@tensorflow/tfjs-core';

/**
 * Evaluates `fn(input)` off the gradient tape: the result is a constant to autodiff, and `input`
 * receives a zero gradient through it. Routing decisions (`topk`, sorting, comparisons) go through
 * here, because tfjs has no gradient for `TopK` (and none for `Less`/`Greater`), and one such node
 * anywhere between a variable and the loss breaks the whole backward pass (DESIGN.md, "The data path").
 *
 * @example
 * ```ts
 * const top1 = withoutGradient(logits, (l) => tf.argMax(l, 1)); // int32 [T], no tape node
 * ```
 */
export function withoutGradient<R extends tf.Tensor>(input: tf.Tensor, fn: (input: tf.Tensor) => R): R {
  const offTape = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const x = args[0] as tf.Tensor;
    return { value: fn(x), gradFunc: () => tf.zeros(x.shape) }; // float32, as tfjs requires of every gradient
  });
  return offTape(input) as R;
}
