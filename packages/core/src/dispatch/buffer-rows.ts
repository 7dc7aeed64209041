import * as tf from '@tensorflow/tfjs-core';
import { clampIndex } from '../routing/clamp-index.js';
import { MoEArgumentError } from '../util/errors.js';
import { planNumTokens, type SparseRoutingPlan } from '../contracts/routing-plan.js';
import { checkDtype, checkShape, describe } from '../util/validate.js';
import { offTape } from '../util/without-gradient.js';

/**
 * How expert inputs are laid out between dispatch and combine:
 * `'padded'` — one buffer of `C` rows per expert, `[E, C, ...F]`, empty slots zero (one batched matMul
 * per projection; padding rows are multiplied too);
 * `'grouped'` — only the kept rows, sorted by expert, `[N, ...F]` with `N = Σ load` and expert `e`'s
 * rows contiguous (MegaBlocks' dropless idea: no padding is multiplied; group sizes are `plan.load`,
 * which must be read to the host once: `plan.groupSizes`).
 */
export type BufferLayout = 'padded' | 'grouped';

/** Where every pair of a sparse plan lands in the flattened expert buffers (see {@link planBufferRows}). */
export interface BufferRows {
  /** The layout these rows are for. */
  layout: BufferLayout;
  /** `[P0, P1]` int32 buffer row of each pair; `numRows` (one past the end) for dropped or unused pairs. */
  rows: tf.Tensor2D;
  /** Rows in the flattened buffers: `E·C` padded, `Σ load` grouped. */
  numRows: number;
}

/**
 * The buffer row of each pair of `plan`, computed once per call and shared by dispatch and combine:
 * padded, row `expertIndex · C + slot` of `E·C`; grouped, row `offset[expertIndex] + slot` of `Σ load`
 * (offsets the exclusive cumulative sum of `load`). The grouped layout needs `Σ load` as a number:
 * it is taken from `plan.groupSizes`, or read once from `plan.load` (and kept there). From plan
 * constants only, so it never enters the gradient tape. The caller disposes `rows`.
 *
 * @example
 * ```ts
 * import { combine, dispatch, planBufferRows } from '@moekit/core';
 *
 * const rows = planBufferRows(plan, 'padded');
 * const y = combine(experts.apply(dispatch(x, plan, 'padded', rows), opts), plan, 'padded', rows);
 * rows.rows.dispose();
 * ```
 */
export function planBufferRows(plan: SparseRoutingPlan, layout: BufferLayout): BufferRows {
  const { expertIndex, slot, capacity, numExperts } = plan;
  if (layout === 'grouped' && plan.groupSizes === undefined) plan.groupSizes = Array.from(plan.load.dataSync());
  const numRows = layout === 'padded' ? numExperts * capacity : plan.groupSizes!.reduce((a, b) => a + b, 0);
  const rows = offTape(() => tf.tidy(() => {
    const kept = tf.greaterEqual(slot, 0); // [P0, P1]
    const offsets = layout === 'padded'
      ? tf.mul(tf.range(0, numExperts, 1, 'int32'), tf.scalar(capacity, 'int32')) // [E]
      : tf.cumsum(plan.load, 0, true); // [E] exclusive
    const safeExpert = clampIndex(expertIndex, numExperts); // [P0, P1] (-1 → 0, masked below)
    const row = tf.add(tf.gather(offsets, safeExpert), slot); // [P0, P1]
    return tf.where(kept, row, tf.fill(slot.shape, numRows, 'int32')) as tf.Tensor2D;
  }));
  return { layout, rows, numRows };
}

/** `[P]` int32 token of each pair: `plan.token`, or for a token-major `[T, K]` plan `t` repeated `K` times. @internal */
export function pairTokens(plan: SparseRoutingPlan): tf.Tensor1D {
  return offTape(() => tf.tidy(() => {
    if (plan.token !== undefined) return tf.reshape(plan.token, [-1]) as tf.Tensor1D;
    const [numTokens, k] = plan.expertIndex.shape;
    return tf.reshape(tf.tile(tf.reshape(tf.range(0, numTokens, 1, 'int32'), [-1, 1]), [1, k]), [-1]) as tf.Tensor1D; // [T·K]
  }));
}

/** Checks that a plan's tensors agree with each other and with `numTokens`. @internal */
export function checkPlan(where: string, plan: SparseRoutingPlan, numTokens: number): void {
  const { expertIndex, slot, combineWeight, token } = plan;
  if (token === undefined && (expertIndex.rank !== 2 || expertIndex.shape[0] !== numTokens)) {
    throw new MoEArgumentError(where, 'plan.expertIndex', `shape [${numTokens}, K] (T from the input's axis 0)`, `shape ${describe(expertIndex.shape)}`);
  }
  if (token !== undefined && planNumTokens(plan) !== numTokens) {
    throw new MoEArgumentError(where, 'plan.numTokens', `${numTokens} (T from the input's axis 0)`, describe(plan.numTokens));
  }
  checkDtype(where, 'plan.expertIndex', expertIndex, 'int32');
  checkShape(where, 'plan.slot', slot, expertIndex.shape);
  checkDtype(where, 'plan.slot', slot, 'int32');
  checkShape(where, 'plan.combineWeight', combineWeight, expertIndex.shape);
  if (token !== undefined) {
    checkShape(where, 'plan.token', token, expertIndex.shape);
    checkDtype(where, 'plan.token', token, 'int32');
  }
}

/** Checks that precomputed rows match the layout and the plan. @internal */
export function checkRows(where: string, rows: BufferRows, plan: SparseRoutingPlan, layout: BufferLayout): void {
  if (rows.layout !== layout) throw new MoEArgumentError(where, 'rows.layout', describe(layout), describe(rows.layout));
  checkShape(where, 'rows.rows', rows.rows, plan.expertIndex.shape);
}
