import * as tf from '@tensorflow/tfjs-core';
import { customGradient } from './custom-gradient.js';
import { bufferRows, checkPlan, type BufferLayout } from './buffer-rows.js';
import type { Combiner } from './combiner.js';
import { MoEArgumentError } from './errors.js';
import type { RoutingPlan } from './routing-plan.js';
import { checkMinRank, checkOneOf, describe } from './validate.js';

/**
 * Brings expert outputs back to token order: `y[t] = Σ_k combineWeight[t, k] · out[row(t, k)]`,
 * from `[E, C, ...F']` (padded) or `[N, ...F']` (grouped) to `[T, ...F']`; dropped pairs contribute 0.
 * One custom-gradient op (a gather of the buffers' rows, weighted and summed over K) that saves only
 * the expert outputs, the weights and the int32 rows; gradients reach the expert outputs (each row
 * owned by one pair, so a gather of `dy`) and the combine weights.
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
    return weightedGather(expertOutput, plan.combineWeight, rows, numRows, features);
  });
}

/**
 * `y[t] = Σ_k w[t, k] · out[rows[t, k]]` (row `numRows` reads zeros) as one custom-gradient op that
 * saves only `out`, `w` and the int32 rows. Its gradients:
 * `∂L/∂out[r] = w[t, k] · dy[t]` for the pair `(t, k)` owning row `r` (0 for an empty row), and
 * `∂L/∂w[t, k] = ⟨dy[t], out[rows[t, k]]⟩`. The same function as gather → multiply → sum on the tape,
 * whose saved `[T, K, ...F']` intermediates and their gradients would all be held until backward ends.
 */
function weightedGather(expertOutput: tf.Tensor, combineWeight: tf.Tensor, rows: tf.Tensor, numRows: number, features: number[]): tf.Tensor {
  const [numTokens, k] = rows.shape as [number, number];
  const width = features.reduce((a, b) => a * b, 1);
  const picked = (out: tf.Tensor, pairRows: tf.Tensor) => {
    const flat = tf.reshape(out, [numRows, width]); // [rows, P]
    const padded = tf.concat([flat, tf.zeros([1, width], flat.dtype)], 0); // [rows + 1, P]
    return tf.reshape(tf.gather(padded, tf.reshape(pairRows, [-1])), [numTokens, k, width]); // [T, K, P]
  };
  const fused = customGradient<[tf.Tensor, tf.Tensor, tf.Tensor]>(([out, weight, pairRows], save) => {
    save([out, weight, pairRows]);
    const value = tf.tidy(() => {
      const weighted = tf.mul(picked(out, pairRows), tf.reshape(weight, [numTokens, k, 1])); // [T, K, P]
      return tf.reshape(k === 1 ? weighted : tf.sum(weighted, 1), [numTokens, ...features]); // [T, ...F']
    });
    const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]) => tf.tidy(() => {
      const [o, w, r] = saved as [tf.Tensor, tf.Tensor2D, tf.Tensor2D];
      const dyFlat = tf.reshape(dy, [numTokens, width]); // [T, P]
      // ∂L/∂w[t, k] = ⟨dy[t], out[rows[t, k]]⟩ (0 for dropped pairs: they read the zero row)
      const dWeight = tf.sum(tf.mul(picked(o, r), tf.reshape(dyFlat, [numTokens, 1, width])), 2); // [T, K]
      // ∂L/∂out[r] = w[t, k] · dy[t]: each row's owning pair from a scatter of plan constants
      const flatRows = tf.reshape(r, [-1, 1]); // [T·K, 1]
      const pairToken = tf.reshape(tf.tile(tf.reshape(tf.range(0, numTokens, 1, 'int32'), [-1, 1]), [1, k]), [-1]); // [T·K]
      const rowToken = tf.slice(tf.scatterND(flatRows, pairToken, [numRows + 1]), 0, numRows); // [rows] (0 if empty)
      const rowWeight = tf.slice(tf.scatterND(flatRows, tf.reshape(w, [-1]), [numRows + 1]), 0, numRows); // [rows] (0 if empty)
      const dOut = tf.mul(tf.gather(dyFlat, rowToken), tf.reshape(rowWeight, [numRows, 1])); // [rows, P]
      return [tf.reshape(dOut, o.shape), dWeight, tf.zeros(r.shape, 'float32')]; // int32 rows: no gradient
    });
    return { value, gradFunc };
  });
  return fused(expertOutput, combineWeight, rows);
}

/** The default combiner: {@link combine}, a weighted sum of each token's expert outputs. */
export const weightedSumCombiner: Combiner = { combine };
