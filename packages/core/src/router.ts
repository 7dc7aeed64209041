import type * as tf from '@tensorflow/tfjs-core';
import type { AuxLosses } from './aux-losses.js';

/** A pair of capacity factors, one for training and one for evaluation. */
export interface CapacityFactors {
  /** Capacity factor while training. */
  train: number;
  /** Capacity factor in evaluation. */
  eval: number;
}

/** Options passed to every {@link Router.route} call. */
export interface RouteOptions {
  /** True while training: routers turn on noise, jitter and their training-time capacity. */
  training: boolean;
  /**
   * `[E]` experts this call must not choose (Pavlitska et al. 2022's hard utilisation constraint):
   * their gate logits become −∞ before noise, softmax and selection (see {@link excludeExperts}).
   * Only routers with `supportsExcludedExperts` honour it; {@link MixtureOfExperts} never sets it.
   */
  excludedExperts?: readonly boolean[];
}

/**
 * What a router returns for `T` tokens and `E` experts, choosing `K` experts per token. A router
 * only scores and chooses; capacity, slot assignment, dispatch and combine are done by core.
 */
export interface RouterOutput {
  /** `[T, E]` gate logits (the clean scores, before noise). */
  logits: tf.Tensor2D;
  /** `[T, E]` routing probabilities; combine weights are read from these at the chosen experts. */
  probs: tf.Tensor2D;
  /**
   * `[T, K]` int32 chosen experts, column 0 the first choice. `-1` means "this choice is not used"
   * (e.g. GShard's randomly skipped second expert): it takes no slot and is not counted as dropped.
   * Compute it off the gradient tape (see {@link selectTopK}): tfjs has no gradient for `TopK`.
   */
  expertIndex: tf.Tensor2D;
  /** Optional `[T]` priority: higher is placed first (V-MoE Batch Priority Routing). */
  priority?: tf.Tensor1D;
  /** The router's auxiliary losses; `total` is weighted, the parts are not. */
  auxLosses: AuxLosses;
}

/**
 * The router contract: scores `gateInput` `[T, Dg]` and chooses `k` of `numExperts` experts per token.
 * Implementations live in their own packages (`@moekit/router-topk`, `@moekit/router-switch`, …).
 */
export interface Router {
  /** Number of experts `E` the router scores. */
  readonly numExperts: number;
  /** Number of experts `K` chosen per token. */
  readonly k: number;
  /** The router's trainable variables (its gate weights). */
  readonly trainableVariables: tf.Variable[];
  /**
   * The capacity factors this router's paper trains and evaluates with (Switch: 1.25 / 2.0);
   * {@link MixtureOfExperts} adopts them unless it is given its own.
   */
  readonly capacityFactors?: CapacityFactors;
  /** True when {@link RouteOptions.excludedExperts} is honoured. */
  readonly supportsExcludedExperts?: boolean;
  /** Creates the router's weights for gate inputs of width `inputDim`, if it builds lazily (a no-op once built). */
  build?(inputDim: number): void;
  /** Scores and chooses experts for `gateInput` `[T, Dg]`. */
  route(gateInput: tf.Tensor2D, options: RouteOptions): RouterOutput;
  /**
   * Optional (expert pruning): the per-expert router weight vectors as the columns of a `[Dg, E]`
   * tensor, column `e` being the gate kernel's column `w_e` that scores expert `e` (`logit_e = x · w_e`).
   * A copy the caller owns.
   */
  gateWeights?(): tf.Tensor2D;
  /**
   * Optional (expert pruning): a new, independent router over the experts `keep` (distinct indices in
   * `[0, E)`; expert `keep[i]` becomes expert `i`), its gate columns copied, `numExperts = keep.length`
   * and `k = min(k, keep.length)`, every other option unchanged. This router is left untouched.
   * Its logits are the kept columns of this router's logits.
   */
  selectExperts?(keep: readonly number[]): Router;
  /** Releases the router's variables. */
  dispose(): void;
}
