import * as tf from '@tensorflow/tfjs-core';
import { checkPlan, planBufferRows } from './buffer-rows.js';
import type { SparseRoutingPlan as RoutingPlan } from '../contracts/routing-plan.js';
import { checkMinRank } from '../util/validate.js';

/** `[T, E·C]` float32 sum over choices of each pair's one-hot buffer row, scaled by `weight` `[T, K]`. */
function denseRows(plan: RoutingPlan, weight: tf.Tensor2D | null): tf.Tensor2D {
  return tf.tidy(() => {
    const { rows, numRows } = planBufferRows(plan, 'padded');
    // int32 one-hot then cast: the wasm backend's float32 OneHot writes int32 bits (TFJS-NOTES.md)
    const oneHot = tf.cast(tf.oneHot(rows, numRows + 1), 'float32'); // [T, K, E·C + 1]
    const weighted = weight === null ? oneHot : tf.mul(oneHot, tf.expandDims(weight, 2));
    return tf.slice(tf.sum(weighted, 1), [0, 0], [-1, numRows]) as tf.Tensor2D; // [T, E·C]
  });
}

/**
 * Reference dispatch through a dense one-hot matrix (GShard's einsum as one matMul): same result as
 * {@link dispatch}, at `O(T·E·C)` memory. For tests and benchmarks only.
 */
export function denseDispatch(x: tf.Tensor, plan: RoutingPlan): tf.Tensor {
  checkMinRank('denseDispatch', 'x', x, 2);
  checkPlan('denseDispatch', plan, x.shape[0]!);
  return tf.tidy(() => {
    const features = x.shape.slice(1);
    const x2d = tf.reshape(x, [x.shape[0]!, -1]); // [T, F]
    const buffers = tf.matMul(denseRows(plan, null), x2d, true, false); // [E·C, F]
    return tf.reshape(buffers, [plan.numExperts, plan.capacity, ...features]);
  });
}

/**
 * Reference combine through a dense `[T, E·C]` combine matrix: same result as {@link combine}.
 * For tests and benchmarks only.
 */
export function denseCombine(expertOutput: tf.Tensor, plan: RoutingPlan): tf.Tensor {
  checkMinRank('denseCombine', 'expertOutput', expertOutput, 3);
  const numTokens = plan.expertIndex.shape[0];
  checkPlan('denseCombine', plan, numTokens);
  return tf.tidy(() => {
    const features = expertOutput.shape.slice(2);
    const flat = tf.reshape(expertOutput, [plan.numExperts * plan.capacity, -1]); // [E·C, F']
    const y = tf.matMul(denseRows(plan, plan.combineWeight), flat); // [T, F']
    return tf.reshape(y, [numTokens, ...features]);
  });
}
