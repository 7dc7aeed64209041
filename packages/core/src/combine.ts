import * as tf from '@tensorflow/tfjs-core';
import { bufferRows, checkPlan, type BufferLayout } from './buffer-rows.js';
import type { Combiner } from './combiner.js';
import { MoEArgumentError } from './errors.js';
import type { RoutingPlan } from './routing-plan.js';
import { checkMinRank, checkOneOf, describe } from './validate.js';

/**
 * Brings expert outputs back to token order: `y[t] = Σ_k combineWeight[t, k] · out[row(t, k)]`,
 * from `[E, C, ...F']` (padded) or `[N, ...F']` (grouped) to `[T, ...F']`; dropped pairs contribute 0.
 * One `gather` of the buffers' rows, so gradients reach the expert outputs (through
 * `unsortedSegmentSum`) and the combine weights.
 *
 * @example
 * ```ts
 * const y = combine(experts.apply(dispatch(x, plan), { training }), plan); // [T, D']
 * ```
 */
export function combine(expertOutput: tf.Tensor, plan: RoutingPlan, layout: BufferLayout = 'padded'): tf.Tensor {
  const where = 'combine';
  checkOneOf(where, 'layout', layout, ['padded', 'grouped']);
  const { numExperts, capacity } = plan;
  const featureAxis = layout === 'padded' ? 2 : 1;
  checkMinRank(where, 'expertOutput', expertOutput, featureAxis + 1);
  if (layout === 'padded' && (expertOutput.shape[0] !== numExperts || expertOutput.shape[1] !== capacity)) {
    throw new MoEArgumentError(where, 'expertOutput', `shape [${numExperts}, ${capacity}, ...] (E, C of the plan)`, `shape ${describe(expertOutput.shape)}`);
  }
  const [numTokens, k] = plan.expertIndex.shape;
  checkPlan(where, plan, numTokens);
  const features = expertOutput.shape.slice(featureAxis);
  return tf.tidy(() => {
    const { rows, numRows } = bufferRows(plan, layout);
    if (layout === 'grouped' && expertOutput.shape[0] !== numRows) {
      throw new MoEArgumentError(where, 'expertOutput', `${numRows} rows (Σ plan.load)`, `shape ${describe(expertOutput.shape)}`);
    }
    const flat = tf.reshape(expertOutput, [numRows, ...features]); // [rows, ...F']
    const padded = tf.concat([flat, tf.zeros([1, ...features], expertOutput.dtype)], 0); // [rows + 1, ...F']
    const picked = tf.reshape(tf.gather(padded, tf.reshape(rows, [-1])), [numTokens, k, ...features]); // [T, K, ...F']
    const weight = tf.reshape(plan.combineWeight, [numTokens, k, ...features.map(() => 1)]); // [T, K, 1, ...]
    return tf.sum(tf.mul(picked, weight), 1);
  });
}

/** The default combiner: {@link combine}, a weighted sum of each token's expert outputs. */
export const weightedSumCombiner: Combiner = { combine };
