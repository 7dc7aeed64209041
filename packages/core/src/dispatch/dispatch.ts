import * as tf from '@tensorflow/tfjs-core';
import { customGradient } from '../util/custom-gradient.js';
import { checkPlan, checkRows, pairTokens, planBufferRows, type BufferLayout, type BufferRows } from './buffer-rows.js';
import { isSparsePlan, type RoutingPlan, type SoftRoutingPlan } from '../contracts/routing-plan.js';
import { softDispatch } from './soft-dispatch-combine.js';
import { checkMinRank, checkOneOf } from '../util/validate.js';
import { offTape } from '../util/without-gradient.js';

/**
 * Copies each kept (token, expert) pair's features to its expert: `x` `[T, ...F]` → `[E, C, ...F]`
 * (padded layout, empty slots zero) or `[N, ...F]` (grouped layout: the `N = Σ load` kept rows sorted
 * by expert, no padding). One `gather` of `x`'s rows (its gradient is an `unsortedSegmentSum` back onto
 * `x`); the source row of each buffer row comes from a `scatterND` over plan constants. No `[T, E, C]`
 * one-hot tensor is formed. Token-major (token choice) and expert-major (expert choice) plans alike;
 * a Soft MoE plan mixes the tokens into slots instead (`X̃ = Dᵀ X`). `rows`, when given, are the
 * plan's {@link planBufferRows} for `layout`, computed once for dispatch and combine.
 *
 * The gather runs as one custom-gradient op that saves only the int32 source rows for backward, whose
 * gradient is one `unsortedSegmentSum` of the buffers' gradient onto `x`'s rows (tfjs's own `gather`
 * gradient would add two transposes and a split, each a `[T, ...F]` tensor held until backward ends).
 *
 * @example
 * ```ts
 * import { dispatch } from '@moekit/core';
 *
 * const buffers = dispatch(x, plan); // [E, C, D]
 * const rows = dispatch(x, plan, 'grouped'); // [N, D], expert e owns plan.load[e] consecutive rows
 * ```
 */
export function dispatch(x: tf.Tensor, plan: RoutingPlan, layout: BufferLayout = 'padded', rows?: BufferRows): tf.Tensor {
  const where = 'dispatch';
  checkMinRank(where, 'x', x, 2);
  checkOneOf(where, 'layout', layout, ['padded', 'grouped']);
  const numTokens = x.shape[0]!;
  if (!isSparsePlan(plan)) return softDispatchChecked(x, plan, layout);
  checkPlan(where, plan, numTokens);
  if (rows !== undefined) checkRows(where, rows, plan, layout);
  const features = x.shape.slice(1);
  return tf.tidy(() => {
    const placed = rows ?? planBufferRows(plan, layout);
    const numRows = placed.numRows;
    const sourceRow = offTape(() => tf.tidy(() => {
      const pairRows = tf.reshape(placed.rows, [-1, 1]); // [P, 1]
      // token t + 1 for kept pairs (0 marks an empty row); dropped pairs all land on row numRows
      const tokenPlusOne = tf.add(pairTokens(plan), tf.scalar(1, 'int32')); // [P]
      const keptTokenPlusOne = tf.where(tf.less(tf.reshape(pairRows, [-1]), numRows), tokenPlusOne, tf.zerosLike(tokenPlusOne)); // [P]
      const rowToken = tf.slice(tf.scatterND(pairRows, keptTokenPlusOne, [numRows + 1]), 0, numRows); // [rows]
      // source row of x for each buffer row; padded layout's empty rows read row T, a zero row
      return layout === 'grouped'
        ? tf.sub(rowToken, tf.scalar(1, 'int32')) // every grouped row is filled
        : tf.where(tf.equal(rowToken, 0), tf.fill([numRows], numTokens, 'int32'), tf.sub(rowToken, tf.scalar(1, 'int32'))); // [E·C]
    }));
    const outShape = layout === 'grouped' ? [numRows, ...features] : [plan.numExperts, plan.capacity, ...features];
    return gatherRows(x, sourceRow as tf.Tensor1D, outShape, layout === 'padded');
  });
}

function softDispatchChecked(x: tf.Tensor, plan: SoftRoutingPlan, layout: BufferLayout): tf.Tensor {
  const buffers = softDispatch(x, plan); // [E, C, ...F]
  if (layout === 'padded') return buffers;
  const grouped = tf.reshape(buffers, [plan.numExperts * plan.capacity, ...x.shape.slice(1)]); // every slot is filled: groups of C rows
  buffers.dispose();
  return grouped;
}

/**
 * `x[sourceRow]` reshaped to `outShape`, where row `T` (when `zeroRow`) reads zeros; its gradient is
 * `unsortedSegmentSum(dy, sourceRow, T + 1)[:T]`, saving only `sourceRow`.
 */
function gatherRows(x: tf.Tensor, sourceRow: tf.Tensor1D, outShape: number[], zeroRow: boolean): tf.Tensor {
  const numTokens = x.shape[0]!;
  const width = x.size / Math.max(numTokens, 1); // product of the feature dims
  const gather = customGradient<[tf.Tensor, tf.Tensor1D]>(([input, index], save) => {
    save([index]);
    const value = tf.tidy(() => {
      const flat = tf.reshape(input, [numTokens, width]); // [T, P]
      const source = zeroRow ? tf.concat([flat, tf.zeros([1, width], flat.dtype)], 0) : flat; // [T (+1), P]
      return tf.reshape(tf.gather(source, index), outShape);
    });
    const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]) => tf.tidy(() => {
      const rows = saved[0] as tf.Tensor1D; // [rows]
      const segments = tf.unsortedSegmentSum(tf.reshape(dy, [rows.shape[0]!, width]), rows, numTokens + (zeroRow ? 1 : 0)); // [T (+1), P]
      const dx = zeroRow ? tf.slice(segments, 0, numTokens) : segments; // [T, P]
      return [tf.reshape(dx, input.shape), tf.zeros(index.shape, 'float32')]; // int32 rows: no gradient
    });
    return { value, gradFunc };
  });
  return gather(x, sourceRow);
}
