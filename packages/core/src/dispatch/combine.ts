import * as tf from '@tensorflow/tfjs-core';
import { customGradient } from '../util/custom-gradient.js';
import { checkPlan, checkRows, pairTokens, planBufferRows, type BufferLayout, type BufferRows } from './buffer-rows.js';
import type { Combiner } from '../contracts/combiner.js';
import { MoEArgumentError } from '../util/errors.js';
import { isSparsePlan, planNumTokens, type RoutingPlan } from '../contracts/routing-plan.js';
import { softCombine } from './soft-dispatch-combine.js';
import { checkMinRank, checkOneOf, describe } from '../util/validate.js';

/**
 * Brings expert outputs back to token order: `y[t] = Σ_{pairs p of t} combineWeight[p] · out[row(p)]`,
 * from `[E, C, ...F']` (padded) or `[N, ...F']` (grouped) to `[T, ...F']`; dropped pairs contribute 0.
 * One custom-gradient op (a gather of the buffers' rows, weighted and summed per token: over K for a
 * token-major plan, a segment sum for an expert-major one) that saves only the expert outputs, the
 * weights and the int32 rows; gradients reach the expert outputs (each row owned by one pair, so a
 * gather of `dy`) and the combine weights. A Soft MoE plan mixes the slots instead (`Y = C · f(X̃)`).
 * `rows`, when given, are the plan's {@link planBufferRows} for `layout`.
 *
 * @example
 * ```ts
 * import { combine, dispatch } from '@moekit/core';
 *
 * const y = combine(experts.apply(dispatch(x, plan), { training }), plan); // [T, D']
 * ```
 */
export function combine(expertOutput: tf.Tensor, plan: RoutingPlan, layout: BufferLayout = 'padded', rows?: BufferRows): tf.Tensor {
  const where = 'combine';
  checkOneOf(where, 'layout', layout, ['padded', 'grouped']);
  if (!isSparsePlan(plan)) {
    if (layout === 'padded') return softCombine(expertOutput, plan);
    return tf.tidy(() => softCombine(tf.reshape(expertOutput, [plan.numExperts, plan.capacity, ...expertOutput.shape.slice(1)]), plan));
  }
  const { numExperts, capacity } = plan;
  const featureAxis = layout === 'padded' ? 2 : 1;
  checkMinRank(where, 'expertOutput', expertOutput, featureAxis + 1);
  if (layout === 'padded' && (expertOutput.shape[0] !== numExperts || expertOutput.shape[1] !== capacity)) {
    throw new MoEArgumentError(where, 'expertOutput', `shape [${numExperts}, ${capacity}, ...] (E, C of the plan)`, `shape ${describe(expertOutput.shape)}`);
  }
  const numTokens = planNumTokens(plan);
  checkPlan(where, plan, numTokens);
  if (rows !== undefined) checkRows(where, rows, plan, layout);
  const features = expertOutput.shape.slice(featureAxis);
  return tf.tidy(() => {
    const placed = rows ?? planBufferRows(plan, layout);
    if (layout === 'grouped' && expertOutput.shape[0] !== placed.numRows) {
      throw new MoEArgumentError(where, 'expertOutput', `${placed.numRows} rows (Σ plan.load)`, `shape ${describe(expertOutput.shape)}`);
    }
    const token = plan.token === undefined ? null : pairTokens(plan); // [P], saved for backward by the op
    return weightedGather(expertOutput, plan.combineWeight, placed.rows, placed.numRows, features, token, numTokens);
  });
}

/**
 * `y[t] = Σ_{p of t} w[p] · out[rows[p]]` (row `numRows` reads zeros) as one custom-gradient op that
 * saves only `out`, `w`, the int32 rows and the pairs' tokens. Pairs are token-major `[T, K]` when `token` is null, else
 * `token` `[P]` names each pair's token. Its gradients:
 * `∂L/∂out[r] = w[p] · dy[token(p)]` for the pair `p` owning row `r` (0 for an empty row), and
 * `∂L/∂w[p] = ⟨dy[token(p)], out[rows[p]]⟩`. The same function as gather → multiply → sum on the tape,
 * whose saved `[P, ...F']` intermediates and their gradients would all be held until backward ends.
 */
function weightedGather(expertOutput: tf.Tensor, combineWeight: tf.Tensor, rows: tf.Tensor, numRows: number, features: number[], token: tf.Tensor1D | null, numTokens: number): tf.Tensor {
  const pairShape = rows.shape as [number, number];
  const numPairs = pairShape[0] * pairShape[1];
  const k = pairShape[1];
  const tokenMajor = token === null;
  const width = features.reduce((a, b) => a * b, 1);
  const picked = (out: tf.Tensor, pairRows: tf.Tensor) => {
    const flat = tf.reshape(out, [numRows, width]); // [rows, P]
    const padded = tf.concat([flat, tf.zeros([1, width], flat.dtype)], 0); // [rows + 1, P]
    return tf.gather(padded, tf.reshape(pairRows, [-1])); // [pairs, P]
  };
  // the token of each pair, an input of the op so that backward gets it saved (token-major: t repeated K times)
  const pairToken = token ?? pairTokensOf(numTokens, k); // [pairs]
  const fused = customGradient<[tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor]>(([out, weight, pairRows, owner], save) => {
    save([out, weight, pairRows, owner]);
    const value = tf.tidy(() => {
      const weighted = tf.mul(picked(out, pairRows), tf.reshape(weight, [numPairs, 1])); // [pairs, P]
      const summed = !tokenMajor
        ? tf.unsortedSegmentSum(weighted, owner as tf.Tensor1D, numTokens) // [T, P] expert-major pairs: a segment sum per token
        : k === 1 ? weighted : tf.sum(tf.reshape(weighted, [numTokens, k, width]), 1); // token-major: sum over K
      return tf.reshape(summed, [numTokens, ...features]); // [T, ...F']
    });
    const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]) => tf.tidy(() => {
      const [o, w, r, tok] = saved as [tf.Tensor, tf.Tensor2D, tf.Tensor2D, tf.Tensor1D];
      const dyFlat = tf.reshape(dy, [numTokens, width]); // [T, P]
      // ∂L/∂w[p] = ⟨dy[token(p)], out[rows[p]]⟩ (0 for dropped pairs: they read the zero row)
      const dWeight = !tokenMajor
        ? tf.reshape(tf.sum(tf.mul(picked(o, r), tf.gather(dyFlat, tok)), 1), w.shape) // [P0, P1]
        : tf.sum(tf.mul(tf.reshape(picked(o, r), [numTokens, k, width]), tf.reshape(dyFlat, [numTokens, 1, width])), 2); // [T, K], dy broadcast over K
      // ∂L/∂out[r] = w[p] · dy[token(p)]: each row's owning pair from a scatter of plan constants
      const flatRows = tf.reshape(r, [-1, 1]); // [pairs, 1]
      const rowToken = tf.slice(tf.scatterND(flatRows, tok, [numRows + 1]), 0, numRows); // [rows] (0 if empty)
      const rowWeight = tf.slice(tf.scatterND(flatRows, tf.reshape(w, [-1]), [numRows + 1]), 0, numRows); // [rows] (0 if empty)
      const dOut = tf.mul(tf.gather(dyFlat, rowToken), tf.reshape(rowWeight, [numRows, 1])); // [rows, P]
      return [tf.reshape(dOut, o.shape), dWeight, tf.zeros(r.shape, 'float32'), tf.zeros(tok.shape, 'float32')]; // int32 inputs: no gradient
    });
    return { value, gradFunc };
  });
  return fused(expertOutput, combineWeight, rows, pairToken);
}

/** `[T·K]` int32: token `t` for each of its `K` pairs of a token-major plan. */
function pairTokensOf(numTokens: number, k: number): tf.Tensor1D {
  return tf.reshape(tf.tile(tf.reshape(tf.range(0, numTokens, 1, 'int32'), [-1, 1]), [1, k]), [-1]) as tf.Tensor1D;
}

/** The default combiner: {@link combine}, a weighted sum of each token's expert outputs. */
export const weightedSumCombiner: Combiner = { combine };
