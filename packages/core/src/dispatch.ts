import * as tf from '@tensorflow/tfjs-core';
import { bufferRows, checkPlan } from './buffer-rows.js';
import type { RoutingPlan } from './routing-plan.js';
import { checkMinRank } from './validate.js';

/**
 * Copies each kept (token, choice) pair's features into its expert's buffer:
 * `x` `[T, ...F]` → `[E, C, ...F]`, empty slots zero. One `gather` of `x`'s rows (its gradient is an
 * `unsortedSegmentSum` back onto `x`); the source row of each slot is built with a `scatterND` over
 * plan constants. No `[T, E, C]` one-hot tensor is formed.
 *
 * @example
 * ```ts
 * const buffers = dispatch(x, plan); // [E, C, D]
 * ```
 */
export function dispatch(x: tf.Tensor, plan: RoutingPlan): tf.Tensor {
  const where = 'dispatch';
  checkMinRank(where, 'x', x, 2);
  const numTokens = x.shape[0]!;
  checkPlan(where, plan, numTokens);
  const { numExperts, capacity } = plan;
  const features = x.shape.slice(1);
  return tf.tidy(() => {
    const numRows = numExperts * capacity;
    const rows = tf.reshape(bufferRows(plan), [-1, 1]); // [T·K, 1]
    const k = plan.expertIndex.shape[1];
    // token t + 1 for kept pairs (0 marks an empty slot); dropped pairs all land on the padding row
    const tokenPlusOne = tf.reshape(tf.tile(tf.reshape(tf.range(1, numTokens + 1, 1, 'int32'), [-1, 1]), [1, k]), [-1]); // [T·K]
    const keptTokenPlusOne = tf.where(tf.less(tf.reshape(rows, [-1]), numRows), tokenPlusOne, tf.zerosLike(tokenPlusOne)); // [T·K]
    const slotToken = tf.slice(tf.scatterND(rows, keptTokenPlusOne, [numRows + 1]), 0, numRows); // [E·C]
    const sourceRow = tf.where(tf.equal(slotToken, 0), tf.fill([numRows], numTokens, 'int32'), tf.sub(slotToken, tf.scalar(1, 'int32'))); // [E·C]
    const padded = tf.concat([x, tf.zeros([1, ...features], x.dtype)], 0); // [T + 1, ...F]
    return tf.reshape(tf.gather(padded, sourceRow), [numExperts, capacity, ...features]);
  });
}
