import * as tf from '@tensorflow/tfjs-core';
import type { SparseRoutingPlan } from '../contracts/routing-plan.js';

/**
 * `[T]` float32: how many of its (token, expert) pairs each token kept in a sparse plan, token-major
 * (`[T, K]`, a pair kept when its slot is ≥ 0) or expert-major (`[E, C]` with `token`). A token at 0
 * was dropped by every expert it asked for, or (expert choice) chosen by none. No host read.
 */
export function keptChoicesPerToken(plan: SparseRoutingPlan, numTokens: number): tf.Tensor1D {
  return tf.tidy(() => {
    const kept = tf.cast(tf.greaterEqual(plan.slot, 0), 'float32'); // [P0, P1]
    return (plan.token === undefined ? tf.sum(kept, 1) : tf.unsortedSegmentSum(tf.reshape(kept, [-1]), tf.reshape(plan.token, [-1]), numTokens)) as tf.Tensor1D;
  });
}
