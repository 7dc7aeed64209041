import * as tf from '@tensorflow/tfjs-core';
import {
  arg,
  checkRank,
  Component,
  describeValue,
  GatedRouter,
  MoEArgumentError,
  rejectUnknownOptions,
  type ArgsTable,
  type GateInitializer,
  type PlannedRouterOutput,
  type RouteOptions,
  type RoutingAlgorithm,
  type SoftRoutingPlan,
} from '@moekit/core';
import { SoftMoEGate } from './soft-moe-gate.js';

/** Configuration of a {@link SoftMoE} routing algorithm. */
export interface SoftMoEArgs {
  /** Experts `E` (≥ 1). */
  numExperts: number;
  /** Slots per expert `S` in each group (≥ 1): the gate scores `E·S` columns. Default 1. */
  slotsPerExpert?: number;
  /**
   * Tokens per group `G`: consecutive runs of `G` tokens (a sequence, an image's patches) are
   * mixed into their own slots, and `T` must be a multiple of `G`. Default: all the tokens of a call
   * form one group.
   */
  groupSize?: number;
}

/** A {@link SoftMoE}'s arguments with the defaults filled in (`groupSize` stays optional). */
export interface SoftMoEConfig extends Required<Omit<SoftMoEArgs, 'groupSize'>>, Pick<SoftMoEArgs, 'groupSize'> {}

/**
 * Soft MoE routing, Puigcerver et al. 2023 ("From Sparse to Soft Mixtures of Experts",
 * https://arxiv.org/abs/2308.00951, §2.1 and Algorithm 1): no token is assigned to an expert;
 * every expert has `S` slots per group, each slot a convex combination of the group's tokens, and
 * every token's output a convex combination of all the slots' outputs. From the gate's slot logits
 * `X·Φ` `[T, E·S]`, per group of `G` tokens:
 * `D_ij = exp((XΦ)_ij) / Σ_i' exp((XΦ)_i'j)` — a softmax over the tokens (Eq. 1, dispatch weights), the
 * slots `X̃ = Dᵀ X`; `C_ij = exp((XΦ)_ij) / Σ_j' exp((XΦ)_ij')` — a softmax over the slots (Eq. 2,
 * combine weights), the output `Y = C · f(X̃)` with slot `j` processed by expert `⌊j / S⌋`.
 * Core's Soft MoE dispatch and combine apply the resulting {@link SoftRoutingPlan}.
 *
 * Fully differentiable: `D` and `C` stay on the tape and the gate learns through both; no top-k, no
 * drops, no capacity factor, no aux loss (`total` = 0), every expert processing exactly `S` slots
 * per group (`capacity = (T / G)·S`). `probs` `[T, E]` (for metrics) is each token's combine
 * weight summed over each expert's slots. No host read.
 *
 * Why an algorithm plus a gate ({@link SoftMoEGate}) rather than one router class: the paper's
 * normalisation and learned scale change only how the scores are computed, which is a gate's job in
 * core's data path, while `D` and `C` depend on the scores alone. Split this way, `SoftMoE` runs
 * behind any gate (a `LinearGate` for the unnormalised `X·Φ`, a convolutional gate), and
 * `GatedRouter` supplies building, variables, serialisation and disposal once.
 *
 * @example
 * ```ts
 * import { GatedRouter } from '@moekit/core';
 * import { SoftMoE, SoftMoEGate } from '@moekit/router-balanced';
 *
 * const router = new GatedRouter({ gate: new SoftMoEGate({ numOutputs: 4 * 2 }), algorithm: new SoftMoE({ numExperts: 4, slotsPerExpert: 2 }) });
 * // or: softMoERouter({ numExperts: 4, slotsPerExpert: 2 })
 * ```
 */
export class SoftMoE extends Component<SoftMoEArgs, SoftMoEConfig> implements RoutingAlgorithm {
  /** Name under which the class is registered for (de)serialisation. */
  static readonly className = 'SoftMoE';
  /** The arguments: defaults and checks. */
  static readonly argsTable: ArgsTable<SoftMoEArgs> = {
    numExperts: arg.integer({ min: 1 }),
    slotsPerExpert: arg.integer({ min: 1, default: 1 }),
    groupSize: arg.integer({ min: 1, optional: true }),
  };
  /** Nominal choices per token, 1 (reporting only: every token reaches every expert's slots). */
  readonly k = 1;

  /** Experts `E`. */
  get numExperts(): number {
    return this.config.numExperts;
  }

  /** Score columns the algorithm reads: `E·S`, one per slot. */
  get numScores(): number {
    return this.config.numExperts * this.config.slotsPerExpert;
  }

  /** `[T, E·S]` slot logits → the dispatch and combine weights of each group, and `probs` `[T, E]`. */
  route(logits: tf.Tensor2D, _options: RouteOptions): PlannedRouterOutput {
    const where = 'SoftMoE.route';
    this.assertLive(where);
    const { numExperts: E, slotsPerExpert: S } = this.config;
    checkRank(where, 'logits', logits, 2);
    const [numTokens, width] = logits.shape;
    if (width !== this.numScores) {
      throw new MoEArgumentError(where, 'logits', `shape [T, ${this.numScores}] (E·S = ${E}·${S} slot columns)`, `shape ${describeValue(logits.shape)}`);
    }
    const G = this.config.groupSize ?? numTokens;
    if (numTokens < 1 || numTokens % G !== 0) {
      throw new MoEArgumentError(where, 'logits', `a positive multiple of groupSize ${G} tokens (rows)`, `shape ${describeValue(logits.shape)}`);
    }
    const numGroups = numTokens / G;
    const out = tf.tidy(() => {
      const floatLogits = tf.cast(logits, 'float32') as tf.Tensor2D;
      const grouped = tf.reshape(floatLogits, [numGroups, G, E * S]); // [B, G, E·S]
      // Eq. 1: softmax over the tokens of a group (axis 1); tfjs's softmax takes the last axis
      const dispatchWeights = tf.transpose(tf.softmax(tf.transpose(grouped, [0, 2, 1])), [0, 2, 1]) as tf.Tensor3D; // [B, G, E·S] D
      const combineWeights = tf.softmax(grouped) as tf.Tensor3D; // [B, G, E·S] C, Eq. 2: softmax over all the slots
      const probs = tf.sum(tf.reshape(combineWeights, [numTokens, E, S]), 2) as tf.Tensor2D; // [T, E] Σ over each expert's slots
      const plan = {
        kind: 'soft' as const,
        numExperts: E,
        capacity: numGroups * S,
        slotsPerGroup: S,
        groupSize: G,
        dispatchWeights,
        combineWeights,
      } satisfies SoftRoutingPlan;
      return { logits: tf.clone(floatLogits), probs, plan, auxLosses: { total: tf.scalar(0) } };
    });
    return out as unknown as PlannedRouterOutput;
  }
}

/** Configuration of {@link softMoERouter}: the algorithm's arguments and its gate's. */
export interface SoftMoERouterArgs extends SoftMoEArgs {
  /** Gate input width `Dg`; when omitted the gate is built from the first input. */
  inputDim?: number;
  /** Normalise the tokens and slot vectors and learn the logits' scale (see {@link SoftMoEGate}). Default `true`. */
  normalize?: boolean;
  /** Initialiser of the slot vectors `Φ`. Default `'glorotUniform'`. */
  kernelInitializer?: GateInitializer;
  /** Seed of the gate's initialiser. */
  seed?: number;
}

/**
 * The Soft MoE router of the paper: a {@link SoftMoEGate} (`E·S` slot vectors, normalised with a
 * learned scale by default) and the {@link SoftMoE} algorithm in a `GatedRouter` (serialisable
 * through the registry).
 *
 * @example
 * ```ts
 * import { MixtureOfExperts } from '@moekit/core';
 * import { softMoERouter } from '@moekit/router-balanced';
 *
 * const moe = new MixtureOfExperts({ router: softMoERouter({ numExperts: 8, slotsPerExpert: 2, groupSize: 64 }), experts });
 * ```
 */
export function softMoERouter(args: SoftMoERouterArgs): GatedRouter {
  rejectUnknownOptions('softMoERouter', args ?? {}, [...Object.keys(SoftMoE.argsTable), 'inputDim', 'normalize', 'kernelInitializer', 'seed']);
  const { inputDim, normalize, kernelInitializer, seed, ...algorithmArgs } = args;
  const algorithm = new SoftMoE(algorithmArgs);
  const gate = new SoftMoEGate({ numOutputs: algorithm.numScores, inputDim, normalize, kernelInitializer, seed });
  return new GatedRouter({ gate, algorithm });
}
