import type * as tf from '@tensorflow/tfjs-core';
import type { AuxLosses } from './aux-losses.js';
import type { CapacityConfig } from '../routing/capacity-config.js';
import type { Capability } from '../components/capabilities.js';
import { MoEArgumentError } from '../util/errors.js';
import type { RoutingPlan } from './routing-plan.js';

/** Options passed to every {@link Router.route} call. */
export interface RouteOptions {
  /** True while training: routers turn on noise, jitter and their training-time capacity. */
  training: boolean;
  /**
   * `[E]` experts this call must not choose (Pavlitska et al. 2022's hard utilisation constraint):
   * their gate logits become −∞ before noise, softmax and selection (see {@link excludeExperts}).
   * Only routers with the `'excludedExperts'` capability honour it; {@link MixtureOfExperts} never sets it.
   */
  excludedExperts?: readonly boolean[];
}

/**
 * What a token-choice router returns for `T` tokens and `E` experts, choosing `K` experts per token.
 * The router only scores and chooses; capacity, slot positions, dispatch and combine are core's
 * ({@link planRouting} places the choices on the device).
 */
export interface TokenChoiceOutput {
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
  /** Absent: core plans token choices. */
  plan?: undefined;
}

/**
 * What a router returns when its algorithm places the tokens itself (expert choice, Soft MoE,
 * balanced assignment): the complete {@link RoutingPlan}, computed on the device.
 */
export interface PlannedRouterOutput {
  /** `[T, E]` gate logits (for soft routing `[T, E·S]`, one column per slot). */
  logits: tf.Tensor2D;
  /** `[T, E]` routing probabilities (for metrics: importance, entropy). */
  probs: tf.Tensor2D;
  /** The plan dispatch and combine follow. */
  plan: RoutingPlan;
  /** The router's auxiliary losses; `total` is weighted, the parts are not. */
  auxLosses: AuxLosses;
}

/** What {@link Router.route} returns: token choices for core to place, or a complete plan. */
export type RouterOutput = TokenChoiceOutput | PlannedRouterOutput;

/** True when a router output carries its own plan. */
export function isPlannedOutput(output: RouterOutput): output is PlannedRouterOutput {
  return output.plan !== undefined;
}

/**
 * `output` as token choices, for components that work on `expertIndex` (priority wrappers,
 * utilisation constraints, pruning scores); a planned output (expert choice, Soft MoE) is an error
 * naming `where`. Disposes of nothing.
 */
export function expectTokenChoice(output: RouterOutput, where: string): TokenChoiceOutput {
  if (isPlannedOutput(output)) {
    throw new MoEArgumentError(where, 'router', 'a token-choice router (its route() returns expertIndex)', 'a router that returns its own plan (expert choice, Soft MoE, balanced assignment)');
  }
  return output;
}

/**
 * The router contract: scores `gateInput` `[T, Dg]` and either chooses `k` of `numExperts` experts
 * per token ({@link TokenChoiceOutput}) or returns a complete plan ({@link PlannedRouterOutput}).
 * A router is most simply a {@link Gate} and a {@link RoutingAlgorithm} in a {@link GatedRouter};
 * implementations live in their own packages (`@moekit/router-topk`, `@moekit/router-switch`, …).
 */
export interface Router {
  /** Number of experts `E` the router scores. */
  readonly numExperts: number;
  /**
   * Number of experts `K` chosen per token. A router that plans itself gives its nominal number
   * (expert choice: its capacity factor rounded up; Soft MoE: 1), used only for reporting.
   */
  readonly k: number;
  /** The router's trainable variables (its gate weights). */
  readonly trainableVariables: tf.Variable[];
  /**
   * The capacity this router's paper trains and evaluates with (Switch: 1.25 / 2.0), for token
   * choice; {@link MixtureOfExperts} adopts each field unless its own `capacity` sets it.
   */
  readonly capacity?: CapacityConfig;
  /**
   * What the router can do beyond routing: `'excludedExperts'` (honours {@link RouteOptions.excludedExperts}),
   * `'gateWeights'` and `'selectExperts'` (expert pruning). See {@link Capability}.
   */
  readonly capabilities?: ReadonlySet<Capability>;
  /**
   * The gate-input width `Dg` the router's weights were built for, once known (`undefined` before a
   * lazy build). Optional: when given, {@link MixtureOfExperts.build} rejects an input of another width
   * at build time, naming the MoE and both widths, instead of failing inside the first `route`.
   */
  readonly inputDim?: number | undefined;
  /** Creates the router's weights for gate inputs of width `inputDim`, if it builds lazily (a no-op once built). */
  build?(inputDim: number): void;
  /** Scores `gateInput` `[T, Dg]` and chooses experts (token choice) or plans the whole routing. */
  route(gateInput: tf.Tensor2D, options: RouteOptions): RouterOutput;
  /** Releases the router's variables. */
  dispose(): void;
}
