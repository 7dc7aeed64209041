import * as tf from '@tensorflow/tfjs-core';
import { withoutGradient } from '@moekit/core';

/**
 * Which of a token's later choices (2nd, 3rd, …) are dispatched, from its gates normalised over its
 * K choices (GShard's `g2 / (g1 + g2)`), as lucidrains' `second_policy` in mixture-of-experts / ST-MoE:
 * `'all'` every one; `'none'` none (top-1 dispatch, top-k gates); `'threshold'` those whose normalised
 * gate exceeds the threshold; `'random'` each with probability `min(1, g / threshold)` — with
 * threshold 0.5, GShard's `min(1, 2·g2 / (g1 + g2))` (Lepikhin et al. 2020, Algorithm 2).
 */
export type SecondExpertPolicy = 'all' | 'none' | 'threshold' | 'random';

/**
 * `[T, K]` float32 mask (1 kept, 0 skipped) of the choices kept under `policy`; the first choice is
 * always kept. `chosenGates` `[T, K]` are the gates at the chosen experts. Computed off the tape, and
 * float, so that what is built from it stays differentiable (tfjs has no gradient for `LogicalNot`). @internal
 */
export function keptChoices(chosenGates: tf.Tensor2D, policy: SecondExpertPolicy, threshold: number, seed: number | undefined): tf.Tensor2D {
  return withoutGradient(chosenGates, (gates) =>
    tf.tidy(() => tf.cast(keptMask(gates as tf.Tensor2D, policy, threshold, seed), 'float32') as tf.Tensor2D),
  );
}

function keptMask(gates: tf.Tensor2D, policy: SecondExpertPolicy, threshold: number, seed: number | undefined): tf.Tensor2D {
  return tf.tidy(() => {
    const [numTokens, k] = gates.shape as [number, number];
    const first = tf.concat([tf.ones([numTokens, 1], 'bool'), tf.zeros([numTokens, k - 1], 'bool')], 1); // [T, K]
    if (policy === 'all') return tf.cast(tf.onesLike(gates), 'bool') as tf.Tensor2D;
    if (policy === 'none') return first as tf.Tensor2D;
    const normalised = tf.div(gates, tf.maximum(tf.sum(gates, 1, true), 1e-9)); // [T, K]
    const pass = policy === 'threshold'
      ? tf.greater(normalised, threshold)
      : tf.less(tf.randomUniform([numTokens, k], 0, 1, 'float32', seed), tf.div(normalised, threshold)); // P = min(1, g / threshold)
    return tf.logicalOr(first, pass) as tf.Tensor2D;
  });
}
