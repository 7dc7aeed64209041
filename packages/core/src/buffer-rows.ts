import * as tf from '@tensorflow/tfjs-core';
import type { RoutingPlan } from './routing-plan.js';
import { MoEArgumentError } from './errors.js';
import { checkDtype, checkShape, describe } from './validate.js';

/**
 * `[T, K]` int32 row of each (token, choice) pair in the flattened expert buffers `[E·C]`:
 * `expertIndex · C + slot` when kept, the padding row `E·C` when dropped or unused.
 * Computed from plan constants only, so it never enters the gradient tape. @internal
 */
export function bufferRows(plan: RoutingPlan): tf.Tensor2D {
  return tf.tidy(() => {
    const { expertIndex, slot, capacity, numExperts } = plan;
    const kept = tf.greaterEqual(slot, 0); // [T, K]
    const row = tf.add(tf.mul(expertIndex, tf.scalar(capacity, 'int32')), slot); // [T, K]
    return tf.where(kept, row, tf.fill(slot.shape, numExperts * capacity, 'int32')) as tf.Tensor2D;
  });
}

/** Checks that a plan's tensors agree with each other and with `numTokens`. @internal */
export function checkPlan(where: string, plan: RoutingPlan, numTokens: number): void {
  const { expertIndex, slot, combineWeight } = plan;
  if (expertIndex.rank !== 2 || expertIndex.shape[0] !== numTokens) {
    throw new MoEArgumentError(where, 'plan.expertIndex', `shape [${numTokens}, K] (T from the input's axis 0)`, `shape ${describe(expertIndex.shape)}`);
  }
  checkDtype(where, 'plan.expertIndex', expertIndex, 'int32');
  checkShape(where, 'plan.slot', slot, expertIndex.shape);
  checkDtype(where, 'plan.slot', slot, 'int32');
  checkShape(where, 'plan.combineWeight', combineWeight, expertIndex.shape);
}
