import * as tf from '@tensorflow/tfjs-core';
import {
  arg,
  checkInteger,
  checkRank,
  Component,
  computeCapacity,
  describeValue,
  GatedRouter,
  LinearGate,
  MoEArgumentError,
  offTape,
  rejectUnknownOptions,
  type ArgsTable,
  type CapacityRounding,
  type Capability,
  type GateInitializer,
  type PlannedRouterOutput,
  type RouteOptions,
  type RoutingAlgorithm,
  type SparseRoutingPlan,
} from '@moekit/core';

/** Configuration of an {@link ExpertChoice} routing algorithm. */
export interface ExpertChoiceArgs {
  /** Experts `E` (≥ 1). */
  numExperts: number;
  /**
   * Capacity factor `c` (> 0): each expert takes `C = c·T/E` tokens, so a token is processed by `c`
   * experts on average. Default 2, the paper's EC-CF2.
   */
  capacityFactor?: number;
  /** How `c·T/E` becomes an integer `C`. Default `'ceil'`. */
  capacityRounding?: CapacityRounding;
}

/** An {@link ExpertChoice}'s arguments with every default filled in. */
export interface ExpertChoiceConfig extends Required<ExpertChoiceArgs> {}

/**
 * Expert choice routing, Zhou et al. 2022 ("Mixture-of-Experts with Expert Choice Routing",
 * https://arxiv.org/abs/2202.09368, §3.1): instead of every token choosing its top-k experts, every
 * expert chooses its top-`C` tokens. With token-to-expert affinities `S = Softmax(X·W_g)` `[T, E]`
 * (Eq. 1; `X·W_g` is the gate's logits), `G, I = TopK(Sᵀ, C)` `[E, C]` gives each expert's chosen
 * tokens `I` and their gating weights `G`, and the output is `y_t = Σ_{(e, c): I[e, c] = t} G[e, c] ·
 * f_e(x_t)`. The capacity is `C = c·T/E` (rounded as asked, at least 1, at most `T`), so every expert
 * is loaded exactly `C`: perfect balance by construction, no load-balancing loss (aux `total` = 0),
 * nothing dropped. A token may be taken by several experts or by none; `metrics.expertsPerToken`
 * (mean `c` up to the cap) and `metrics.tokensWithoutExpert` report how the `E·C` slots fell on
 * the tokens — a token taken by no expert gets output 0 and is carried by the residual only.
 *
 * The top-`C` selection and every index are plan constants built off the tape; the combine weights
 * `S[t, e]` at the chosen pairs carry the gradient to the gate. No host read (on webgl, tfjs's own
 * `TopK` kernel copies `Sᵀ` to the CPU when `T` is below its `TOPK_LAST_DIM_CPU_HANDOFF_SIZE_THRESHOLD`
 * flag or `C` above 128, unless `keepTopKOnDevice()` raised them, as `selectBackend` does). Experts
 * excluded by `RouteOptions.excludedExperts` take no tokens.
 *
 * Plan layout: expert-major `[E, C]` pairs — pair `(e, c)` is expert `e`'s `c`-th token `I[e, c]`
 * (the plan's `token`), in slot `c`, weighted `G[e, c]`; an excluded expert's pairs are unused (−1).
 * Combine sums each token's pairs with a segment sum, `E·C = c·T` rows.
 *
 * @example
 * ```ts
 * import { GatedRouter, LinearGate } from '@moekit/core';
 * import { ExpertChoice } from '@moekit/router-balanced';
 *
 * const router = new GatedRouter({ gate: new LinearGate({ numOutputs: 8 }), algorithm: new ExpertChoice({ numExperts: 8, capacityFactor: 2 }) });
 * // or: expertChoiceRouter({ numExperts: 8 })
 * ```
 */
export class ExpertChoice extends Component<ExpertChoiceArgs, ExpertChoiceConfig> implements RoutingAlgorithm {
  /** Name under which the class is registered for (de)serialisation. */
  static readonly className = 'ExpertChoice';
  /** The arguments: defaults and checks. */
  static readonly argsTable: ArgsTable<ExpertChoiceArgs> = {
    numExperts: arg.integer({ min: 1 }),
    capacityFactor: arg.number({ above: 0, default: 2 }),
    capacityRounding: arg.oneOf<CapacityRounding>(['floor', 'ceil', 'round'], { default: 'ceil' }),
  };
  /** Experts excluded by `RouteOptions.excludedExperts` take no tokens. */
  static readonly capabilities: readonly Capability[] = ['excludedExperts'];

  /** Experts `E`. */
  get numExperts(): number {
    return this.config.numExperts;
  }

  /** Nominal choices per token: the mean experts per token, `c` rounded up, at most `E` (reporting only). */
  get k(): number {
    return Math.min(this.numExperts, Math.ceil(this.config.capacityFactor));
  }

  /** Tokens each expert takes from `numTokens`: `C = round(c·T/E)`, at least 1, at most `T`. */
  capacityFor(numTokens: number): number {
    checkInteger('ExpertChoice.capacityFor', 'numTokens', numTokens, 1);
    const { numExperts, capacityFactor, capacityRounding } = this.config;
    const even = computeCapacity({ numTokens, numExperts, k: 1, capacityFactor, rounding: capacityRounding, multiplyByK: false }); // c·T/E, ≥ 1
    return Math.min(numTokens, even);
  }

  /** `[T, E]` logits → `S = softmax(logits)` and the expert-major plan of each expert's top-`C` tokens. */
  route(logits: tf.Tensor2D, options: RouteOptions): PlannedRouterOutput {
    const where = 'ExpertChoice.route';
    this.assertLive(where);
    const E = this.numExperts;
    checkRank(where, 'logits', logits, 2);
    const [numTokens, width] = logits.shape;
    if (width !== E) throw new MoEArgumentError(where, 'logits', `shape [T, ${E}] (one column per expert)`, `shape ${describeValue(logits.shape)}`);
    if (numTokens < 1) throw new MoEArgumentError(where, 'logits', 'at least one token (row)', `shape ${describeValue(logits.shape)}`);
    const excluded = options.excludedExperts;
    if (excluded !== undefined && excluded.length !== E) {
      throw new MoEArgumentError(where, 'excludedExperts', `${E} flags (one per expert)`, describeValue(excluded.length));
    }
    const C = this.capacityFor(numTokens);
    const used = Array.from({ length: E }, (_, e) => excluded?.[e] !== true); // host flags from the options, not a read
    const out = tf.tidy(() => {
      const floatLogits = tf.cast(logits, 'float32') as tf.Tensor2D;
      const probs = tf.softmax(floatLogits) as tf.Tensor2D; // [T, E] S = Softmax(X·W_g), Eq. 1
      const constants = offTape(() => tf.tidy(() => {
        const token = tf.topk(tf.transpose(probs), C, true).indices as tf.Tensor2D; // [E, C] I of G, I = TopK(Sᵀ, C): expert e's c-th token
        const keep = tf.tensor2d(used.map((u) => [u]), [E, 1], 'bool'); // [E, 1] false for excluded experts
        const experts = tf.tile(tf.reshape(tf.range(0, E, 1, 'int32'), [E, 1]), [1, C]); // [E, C] e in row e
        const slots = tf.tile(tf.reshape(tf.range(0, C, 1, 'int32'), [1, C]), [E, 1]); // [E, C] c in column c
        const unused = tf.fill([E, C], -1, 'int32');
        const load = tf.mul(tf.cast(tf.reshape(keep, [E]), 'int32'), tf.scalar(C, 'int32')) as tf.Tensor1D; // [E] C per used expert
        return {
          token,
          expertIndex: tf.where(keep, experts, unused) as tf.Tensor2D, // [E, C] e, or −1 for an excluded expert
          slot: tf.where(keep, slots, unused) as tf.Tensor2D, // [E, C] c, or −1
          flatIndex: tf.reshape(tf.add(tf.mul(token, tf.scalar(E, 'int32')), experts), [-1]), // [E·C] t·E + e into S
          kept: tf.cast(tf.tile(keep, [1, C]), 'float32'), // [E, C]
          load,
          needed: tf.clone(load) as tf.Tensor1D,
          dropped: tf.scalar(0, 'int32'),
        };
      }));
      // G = S[I[e, c], e]: a gather of S (gradient to the gate), 0 for an excluded expert
      const combineWeight = tf.mul(tf.reshape(tf.gather(tf.reshape(probs, [-1]), constants.flatIndex), [E, C]), constants.kept) as tf.Tensor2D; // [E, C]
      const plan = {
        numExperts: E,
        capacity: C,
        numTokens,
        expertIndex: constants.expertIndex,
        slot: constants.slot,
        token: constants.token,
        combineWeight,
        load: constants.load,
        needed: constants.needed,
        dropped: constants.dropped,
        groupSizes: used.map((u) => (u ? C : 0)), // known on the host without a read: the grouped layout needs none
      } satisfies SparseRoutingPlan;
      return { logits: tf.clone(floatLogits), probs, plan, auxLosses: { total: tf.scalar(0) } };
    });
    return out as unknown as PlannedRouterOutput;
  }
}

/** Configuration of {@link expertChoiceRouter}: the algorithm's arguments and its linear gate's. */
export interface ExpertChoiceRouterArgs extends ExpertChoiceArgs {
  /** Gate input width `Dg`; when omitted the gate is built from the first input. */
  inputDim?: number;
  /** Gate kernel initialiser. Default `'glorotUniform'`. */
  kernelInitializer?: GateInitializer;
  /** Seed of the gate's initialiser. */
  seed?: number;
}

/**
 * The expert choice router of the paper: a {@link LinearGate} `X·W_g` `[T, E]` and the
 * {@link ExpertChoice} algorithm in a {@link GatedRouter} (serialisable through the registry).
 *
 * @example
 * ```ts
 * import { MixtureOfExperts } from '@moekit/core';
 * import { expertChoiceRouter } from '@moekit/router-balanced';
 *
 * const moe = new MixtureOfExperts({ router: expertChoiceRouter({ numExperts: 8, capacityFactor: 2 }), experts });
 * ```
 */
export function expertChoiceRouter(args: ExpertChoiceRouterArgs): GatedRouter {
  const where = 'expertChoiceRouter';
  rejectUnknownOptions(where, args ?? {}, [...Object.keys(ExpertChoice.argsTable), 'inputDim', 'kernelInitializer', 'seed']);
  const { inputDim, kernelInitializer, seed, ...algorithmArgs } = args;
  const algorithm = new ExpertChoice(algorithmArgs);
  const gate = new LinearGate({ numOutputs: algorithm.numExperts, inputDim, kernelInitializer, seed });
  return new GatedRouter({ gate, algorithm });
}
