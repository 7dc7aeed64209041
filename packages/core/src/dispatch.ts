import * as tf from '@tensorflow/tfjs-core';
import { bufferRows, checkPlan, type BufferLayout } from './buffer-rows.js';
import type { RoutingPlan } from './routing-plan.js';
import { checkMinRank, checkOneOf } from './validate.js';

/**
 * Copies each kept (token, choice) pair's features to its expert: `x` `[T, ...F]` → `[E, C, ...F]`
 * (padded layout, empty slots zero) or `[N, ...F]` (grouped layout: the `N = Σ load` kept rows sorted
 * by expert, no padding). One `gather` of `x`'s rows (its gradient is an `unsortedSegmentSum` back onto
 * `x`); the source row of each buffer row comes from a `scatterND` over plan constants. No `[T, E, C]`
 * one-hot tensor is formed.
 *
 * @example
 * ```ts
 * const buffers = dispatch(x, plan); // [E, C, D]
 * const rows = dispatch(x, plan, 'grouped'); // [N, D], expert e owns plan.load[e] consecutive rows
 * ```
 */
export function dispatch(x: tf.Tensor, plan: RoutingPlan, layout: BufferLayout = 'padded'): tf.Tensor {
  const where = 'dispatch';
  checkMinRank(where, 'x', x, 2);
  checkOneOf(where, 'layout', layout, ['padded', 'grouped']);
  const numTokens = x.shape[0]!;
  checkPlan(where, plan, numTokens);
  const features = x.shape.slice(1);
  return tf.tidy(() => {
    const { rows: pairRows, numRows } = bufferRows(plan, layout);
    const rows = tf.reshape(pairRows, [-1, 1]); // [T·K, 1]
    const k = plan.expertIndex.shape[1];
    // token t + 1 for kept pairs (0 marks an empty row); dropped pairs all land on row numRows
    const tokenPlusOne = tf.reshape(tf.tile(tf.reshape(tf.range(1, numTokens + 1, 1, 'int32'), [-1, 1]), [1, k]), [-1]); // [T·K]
    const keptTokenPlusOne = tf.where(tf.less(tf.reshape(rows, [-1]), numRows), tokenPlusOne, tf.zerosLike(tokenPlusOne)); // [T·K]
    const rowToken = tf.slice(tf.scatterND(rows, keptTokenPlusOne, [numRows + 1]), 0, numRows); // [rows]
    if (layout === 'grouped') {
      return tf.gather(x, tf.sub(rowToken, tf.scalar(1, 'int32'))); // every grouped row is filled
    }
    const sourceRow = tf.where(tf.equal(rowToken, 0), tf.fill([numRows], numTokens, 'int32'), tf.sub(rowToken, tf.scalar(1, 'int32'))); // [E·C]
    const padded = tf.concat([x, tf.zeros([1, ...features], x.dtype)], 0); // [T + 1, ...F]
    return tf.reshape(tf.gather(padded, sourceRow), [plan.numExperts, plan.capacity, ...features]);
  });
}
