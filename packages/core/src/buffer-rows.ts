import * as tf from '@tensorflow/tfjs-core';
import type { RoutingPlan } from './routing-plan.js';
import { MoEArgumentError } from './errors.js';
import { checkDtype, checkShape, describe } from './validate.js';

/**
 * How expert inputs are laid out between dispatch and combine:
 * `'padded'` — one buffer of `C` rows per expert, `[E, C, ...F]`, empty slots zero (one batched matMul
 * per projection; padding rows are multiplied too);
 * `'grouped'` — only the kept rows, sorted by expert, `[N, ...F]` with `N = Σ load` and expert `e`'s
 * rows contiguous (MegaBlocks' dropless idea: no padding is multiplied; group sizes are `plan.load`).
 */
export type BufferLayout = 'padded' | 'grouped';

/**
 * `[T, K]` int32 row of each (token, choice) pair in the flattened buffers, and their row count:
 * padded, row `expertIndex · C + slot` of `E·C`; grouped, row `offset[expertIndex] + slot` of `Σ load`
 * (offsets the exclusive cumulative sum of `load`). Dropped or unused pairs get the one-past-the-end
 * row `numRows`. Computed from plan constants only, so it never enters the gradient tape. @internal
 */
export function bufferRows(plan: RoutingPlan, layout: BufferLayout): { rows: tf.Tensor2D; numRows: number } {
  const { expertIndex, slot, capacity, numExperts } = plan;
  const numRows = layout === 'padded' ? numExperts * capacity : Array.from(plan.load.dataSync()).reduce((a, b) => a + b, 0);
  const rows = tf.tidy(() => {
    const kept = tf.greaterEqual(slot, 0); // [T, K]
    const offsets = layout === 'padded'
      ? tf.mul(tf.range(0, numExperts, 1, 'int32'), tf.scalar(capacity, 'int32')) // [E]
      : tf.cumsum(plan.load, 0, true); // [E] exclusive
    const safeExpert = tf.maximum(expertIndex, tf.scalar(0, 'int32')); // [T, K] (-1 → 0, masked below)
    const row = tf.add(tf.gather(offsets, safeExpert), slot); // [T, K]
    return tf.where(kept, row, tf.fill(slot.shape, numRows, 'int32')) as tf.Tensor2D;
  });
  return { rows, numRows };
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
