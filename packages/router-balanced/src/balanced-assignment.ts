import * as tf from '@tensorflow/tfjs-core';
import {
  arg,
  Component,
  describeValue,
  MoEArgumentError,
  offTape,
  selectTopK,
  type ArgsTable,
  type PlannedRouterOutput,
  type RouteOptions,
  type RouterOutput,
  type RoutingAlgorithm,
  type SparseRoutingPlan,
  type TokenChoiceOutput,
} from '@moekit/core';
import { balancedCapacities, solveBalancedAssignment, solverArgsTable, type BalancedAssignmentSolverOptions, type ResolvedSolverOptions } from './balanced-assignment-solver.js';

/** Configuration of a {@link BalancedAssignment}: the experts and the solver's settings. */
export interface BalancedAssignmentArgs extends BalancedAssignmentSolverOptions {
  /** Experts `E` (≥ 1). */
  numExperts: number;
}

/** A {@link BalancedAssignment}'s arguments with every default filled in. */
export interface BalancedAssignmentConfig extends ResolvedSolverOptions {
  /** Experts `E`. */
  numExperts: number;
}

/**
 * BASE layers' routing (Lewis et al. 2021, "BASE Layers: Simplifying Training of Large, Sparse
 * Models", https://arxiv.org/abs/2103.16716, §3): in training every expert takes exactly its share
 * of the tokens, `T/E` (`⌊T/E⌋` or `⌈T/E⌉` when `E` does not divide `T`, see `balancedCapacities`),
 * the assignment maximising `Σ_t h_t · w_{a_t}` (§3), found on the device by
 * {@link solveBalancedAssignment} (Sinkhorn prices, exact-balance placement, pairwise swaps; the
 * paper solves it with an auction algorithm on the host). No token is dropped, no aux loss is
 * needed. In evaluation each token goes to its highest-scoring expert (greedy top-1, §3.2), as token
 * choices that `MixtureOfExperts` places under its capacity config.
 *
 * Combine weight: the paper's layer output is `h_t + σ(h_t · w_{a_t}) · f_{a_t}(h_t)` (§3;
 * fairseq's `BaseLayer` computes the same as `α·f(h) + (1 − α)·h` with a residual expert). So the
 * token's weight is the sigmoid of its score for its expert, and that weight is how the gate learns:
 * `probs = σ(logits)` (independent per expert, not a distribution), combine weight = `probs[t, a_t]`.
 * The residual `h_t +` is the caller's, as for every moekit layer. In evaluation keep the MoE's
 * `renormalize: 'none'` (its default), or the weight becomes 1.
 *
 * Training returns a token-major `[T, 1]` plan with `capacity = ⌈T/E⌉` and `load` equal to each
 * expert's share, also given as `groupSizes` (known on the host by construction, so even the grouped
 * layout makes no host read); evaluation returns `expertIndex` `[T, 1]`. The decisions are made off
 * the gradient tape without a host read; only the combine weights carry gradient to the scores.
 *
 * @example
 * ```ts
 * import { GatedRouter, LinearGate } from '@moekit/core';
 * import { BalancedAssignment } from '@moekit/router-balanced';
 *
 * const router = new GatedRouter({ gate: new LinearGate({ numOutputs: 8 }), algorithm: new BalancedAssignment({ numExperts: 8 }) });
 * ```
 */
export class BalancedAssignment extends Component<BalancedAssignmentArgs, BalancedAssignmentConfig> implements RoutingAlgorithm {
  /** Name under which the class is registered for (de)serialisation. */
  static readonly className = 'BalancedAssignment';
  /** The arguments: the experts, then the solver's settings with their defaults. */
  static readonly argsTable: ArgsTable<BalancedAssignmentArgs> = { numExperts: arg.integer({ min: 1 }), ...solverArgsTable };
  /** One expert per token. */
  readonly k = 1;

  /** Experts `E`. */
  get numExperts(): number {
    return this.config.numExperts;
  }

  /**
   * `[T, E]` scores → in training a balanced {@link SparseRoutingPlan} (every expert exactly its share,
   * weights `σ(score)`); in evaluation greedy top-1 token choices. The caller owns everything returned.
   */
  route(logits: tf.Tensor2D, options: RouteOptions): RouterOutput {
    const where = 'BalancedAssignment.route';
    this.assertLive(where);
    if (logits.rank !== 2 || logits.shape[1] !== this.numExperts) {
      throw new MoEArgumentError(where, 'logits', `shape [T, ${this.numExperts}] (numExperts columns)`, `shape ${describeValue(logits.shape)}`);
    }
    if (options.training && options.excludedExperts?.includes(true)) {
      throw new MoEArgumentError(where, 'excludedExperts', 'none while training (a balanced assignment gives every expert its share)', describeValue(options.excludedExperts));
    }
    if (!options.training) return this.greedy(logits);
    const planned = tf.tidy(() => {
      const [T, E] = logits.shape;
      const scores = tf.cast(logits, 'float32') as tf.Tensor2D; // [T, E]
      const probs = tf.sigmoid(scores) as tf.Tensor2D; // [T, E] σ(h_t · w_e), the BASE layer's gate (§3)
      const solution = solveBalancedAssignment(scores, this.config);
      const flatIndex = offTape(() => tf.add(tf.mul(tf.range(0, T, 1, 'int32'), tf.scalar(E, 'int32')), solution.expert)); // [T] t·E + a_t
      const combineWeight = tf.reshape(tf.gather(tf.reshape(probs, [-1]), flatIndex), [T, 1]) as tf.Tensor2D; // [T, 1] σ(h_t · w_{a_t}), on the tape
      const plan = {
        numExperts: E,
        capacity: solution.capacity,
        expertIndex: tf.reshape(solution.expert, [T, 1]) as tf.Tensor2D,
        slot: tf.reshape(solution.slot, [T, 1]) as tf.Tensor2D,
        combineWeight,
        load: solution.load,
        needed: tf.clone(solution.load), // every token asks for the expert it is given: nothing is dropped
        dropped: tf.scalar(0, 'int32') as tf.Scalar,
        groupSizes: balancedCapacities(T, E), // the load, known on the host by construction: the grouped layout needs no read
      };
      return { logits: tf.clone(scores), probs, plan, auxLosses: { total: tf.scalar(0) as tf.Scalar } };
    });
    return planned satisfies PlannedRouterOutput;
  }

  /** Evaluation (§3.2): each token to its best expert, weight `σ(score)`, placed by core. */
  private greedy(logits: tf.Tensor2D): TokenChoiceOutput {
    return tf.tidy(() => {
      const scores = tf.cast(logits, 'float32') as tf.Tensor2D; // [T, E]
      return { logits: tf.clone(scores), probs: tf.sigmoid(scores) as tf.Tensor2D, expertIndex: selectTopK(scores, 1), auxLosses: { total: tf.scalar(0) } };
    });
  }
}
