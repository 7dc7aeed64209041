import * as tf from '@tensorflow/tfjs-core';

/**
 * A sparse routing plan: a set of (token, expert) *pairs*, each with a slot in its expert's buffer of
 * `capacity` rows and a combine weight. The pair tensors share one shape `[P0, P1]`:
 * token choice lays them out token-major, `[T, K]` (pair `(t, k)` is token `t`'s `k`-th choice, and
 * `token` is absent); expert choice lays them out expert-major, `[E, C]`, with `token` saying which
 * token each pair carries. Everything is a tensor on the device: nothing here needs a host read.
 * Only `combineWeight` carries gradient (to the gate's scores); the rest are constants.
 */
export interface SparseRoutingPlan {
  /** Discriminant; absent means sparse. */
  kind?: 'sparse';
  /** Number of experts `E`. */
  numExperts: number;
  /** Slots per expert `C`. */
  capacity: number;
  /** `[P0, P1]` int32 expert of each pair (`-1` = pair not used). */
  expertIndex: tf.Tensor2D;
  /** `[P0, P1]` int32 slot in the expert's buffer, `-1` when the pair was dropped or not used. */
  slot: tf.Tensor2D;
  /** `[P0, P1]` float32 combine weights; exactly 0 where `slot` is `-1`. */
  combineWeight: tf.Tensor2D;
  /**
   * `[P0, P1]` int32 token of each pair, for plans that are not token-major (expert choice, balanced
   * assignment). Absent: the plan is token-major, `[T, K]`, pair `(t, k)` belonging to token `t`.
   */
  token?: tf.Tensor2D;
  /** Tokens `T` routed (needed when `token` is given; else `expertIndex.shape[0]`). */
  numTokens?: number;
  /** `[E]` int32 kept pairs per expert; never above `capacity`. */
  load: tf.Tensor1D;
  /** `[E]` int32 pairs that asked for each expert, kept or not. */
  needed: tf.Tensor1D;
  /** int32 scalar: pairs dropped for lack of capacity, `Σ needed − Σ load`. */
  dropped: tf.Scalar;
  /**
   * Host copy of `load`, when the engine has already read it (the grouped layout needs the group
   * sizes as numbers; a dropless capacity reads the demand). Never read just to fill this in.
   */
  groupSizes?: number[];
}

/**
 * A Soft MoE plan (Puigcerver et al. 2023, https://arxiv.org/abs/2308.00951, §2.1): every slot is a
 * softmax-weighted mixture of all the tokens of its group, every output a softmax-weighted mixture
 * of the slots. Tokens are split into consecutive groups of `groupSize` (a sequence, an image); each
 * group has its own `slotsPerGroup` slots per expert, so expert `e`'s buffer holds
 * `capacity = numGroups · slotsPerGroup` rows. Nothing is dropped; everything is differentiable.
 */
export interface SoftRoutingPlan {
  /** Discriminant. */
  kind: 'soft';
  /** Number of experts `E`. */
  numExperts: number;
  /** Rows per expert buffer `C = numGroups · slotsPerGroup`. */
  capacity: number;
  /** Slots per expert in each group `S`. */
  slotsPerGroup: number;
  /** Tokens per group `G` (`T = numGroups · G`). */
  groupSize: number;
  /** `[numGroups, G, E·S]` dispatch weights `D`, a softmax over the tokens of a group (axis 1). */
  dispatchWeights: tf.Tensor3D;
  /** `[numGroups, G, E·S]` combine weights `C`, a softmax over the slots (axis 2). */
  combineWeights: tf.Tensor3D;
}

/** What a routing algorithm hands to dispatch and combine: sparse pairs or Soft MoE's mixtures. */
export type RoutingPlan = SparseRoutingPlan | SoftRoutingPlan;

/** True for a sparse (pair) plan. */
export function isSparsePlan(plan: RoutingPlan): plan is SparseRoutingPlan {
  return plan.kind !== 'soft';
}

/** Number of tokens `T` a plan routes. */
export function planNumTokens(plan: RoutingPlan): number {
  if (!isSparsePlan(plan)) return plan.dispatchWeights.shape[0] * plan.groupSize;
  return plan.token === undefined ? plan.expertIndex.shape[0] : plan.numTokens ?? -1;
}

/** Disposes of every tensor a plan holds. */
export function disposeRoutingPlan(plan: RoutingPlan): void {
  if (!isSparsePlan(plan)) {
    tf.dispose([plan.dispatchWeights, plan.combineWeights]);
    return;
  }
  tf.dispose([plan.expertIndex, plan.slot, plan.combineWeight, plan.load, plan.needed, plan.dropped]);
  if (plan.token !== undefined) plan.token.dispose();
}

