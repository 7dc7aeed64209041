import type * as tf from '@tensorflow/tfjs-core';

/**
 * Where each of `T` tokens' `K` choices goes: expert `expertIndex[t, k]`, buffer row `slot[t, k]` of
 * that expert's `capacity` rows, weighted by `combineWeight[t, k]` when outputs are combined.
 * All tensors are constants (computed off the gradient tape) except `combineWeight`, through which
 * the router learns.
 */
export interface RoutingPlan {
  /** Number of experts `E`. */
  numExperts: number;
  /** Slots per expert `C`. */
  capacity: number;
  /** `[T, K]` int32 chosen experts (`-1` = choice not used). */
  expertIndex: tf.Tensor2D;
  /** `[T, K]` int32 slot in the expert's buffer, `-1` when the choice was dropped or not used. */
  slot: tf.Tensor2D;
  /** `[T, K]` float32 combine weights; exactly 0 where `slot` is `-1`. */
  combineWeight: tf.Tensor2D;
  /** `[E]` int32 kept (token, choice) pairs per expert; never above `capacity`. */
  load: tf.Tensor1D;
  /** `[E]` int32 (token, choice) pairs that asked for each expert, kept or not. */
  needed: tf.Tensor1D;
  /** Number of (token, choice) pairs dropped for lack of capacity: Σ needed − Σ load. */
  droppedCount: number;
}

/** Disposes of every tensor a plan holds. */
export function disposeRoutingPlan(plan: RoutingPlan): void {
  plan.expertIndex.dispose();
  plan.slot.dispose();
  plan.combineWeight.dispose();
  plan.load.dispose();
  plan.needed.dispose();
}
