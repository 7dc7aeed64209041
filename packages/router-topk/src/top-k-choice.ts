import * as tf from '@tensorflow/tfjs-core';
import {
  arg,
  checkRank,
  checkShape,
  Component,
  loadBalancingConventions,
  loadBalancingLoss,
  MoEArgumentError,
  selectTopK,
  type ArgsTable,
  type LoadBalancingConventionName,
  type RouteOptions,
  type RoutingAlgorithm,
  type TokenChoiceOutput,
} from '@moekit/core';
import { AuxLossFreeBias } from './aux-loss-free-bias.js';
import { checkExcludedLeaveK } from './excluded-leave-k.js';
import type { GateNormalization } from './top-k-router.js';
import { topKNormalized } from './top-k-normalized.js';
import { topKSoftmax } from './top-k-softmax.js';

/**
 * The function that turns a gate's logits `u·e_i` into expert affinities `s`:
 * `'softmax'` — over the experts (Shazeer 2017, GShard, Switch, Mixtral);
 * `'sigmoid'` — per expert, `s_i = σ(u·e_i)` (DeepSeek-V3 Eq. 15), the gates being `s` normalised over
 * the chosen top-k (Eq. 13).
 */
export type TopKGating = 'softmax' | 'sigmoid';

/** Configuration of a {@link TopKChoice}. */
export interface TopKChoiceArgs {
  /** Experts `E` (≥ 1). */
  numExperts: number;
  /** Experts chosen per token `K`, in `[1, E]`. Default 2. */
  k?: number;
  /** Affinity function. Default `'softmax'`. */
  gating?: TopKGating;
  /**
   * `'softmax'` gating only: `'topKSoftmax'` — `Softmax(KeepTopK(logits, k))` (Shazeer Eq. 3), or
   * `'softmax'` — the full softmax's value at each chosen expert (Switch, V-MoE). Default `'topKSoftmax'`.
   * Sigmoid gates are always normalised over the top-k (DeepSeek-V3 Eq. 13); giving `gates` with
   * `'sigmoid'` is an error.
   */
  gates?: GateNormalization;
  /**
   * Weight of Switch's load-balancing loss `E·Σ_i f_i·P_i` (Fedus et al. 2021, Eq. 4). Default 0 for
   * `'sigmoid'` gating with a bias update (DeepSeek-V3 balances with the bias instead), 0.01 otherwise.
   * The unweighted loss is always reported as `auxLosses.loadBalancing`.
   */
  loadBalancingWeight?: number;
  /**
   * Which library's load-balancing loss `loadBalancing` is (see `loadBalancingConventions` in
   * `@moekit/core`): `'switch'` (Fedus Eq. 4, first choices), `'deepspeed'` (`topkgating`: all K
   * choices, ÷K) or `'mixtral'` (HF: all K choices, K at perfect balance). Default `'switch'`.
   */
  loadBalancingConvention?: LoadBalancingConventionName;
  /**
   * Compute `loadBalancing` over this many equal contiguous groups of the routed tokens and average
   * them (HF `switch_transformers` over its batch rows); the token count of every call must be
   * divisible by it. Default 1.
   */
  loadBalancingGroups?: number;
  /**
   * Update rate `u` of auxiliary-loss-free load balancing (Wang et al. 2024, Algorithm 1; see
   * {@link AuxLossFreeBias}): experts are selected by the top-k of `s + b` and, after the selection of
   * every training `route` call, `b_i += u · sign(mean load − load_i)`. Default 0 (no bias). The
   * paper's rate is 1e-3 over thousands of steps; a short run needs a larger one.
   */
  biasUpdateRate?: number;
  /**
   * The starting bias `b` `[E]` (default zeros when `biasUpdateRate > 0`). `getConfig` saves the current
   * bias here, so a saved model restores it; given with `biasUpdateRate: 0`, the bias is a fixed one
   * (e.g. a trained model used for inference).
   */
  expertBias?: number[];
}

/** A {@link TopKChoice}'s arguments with every default filled in. */
export interface TopKChoiceConfig {
  /** Experts `E`. */
  numExperts: number;
  /** Experts chosen per token `K`. */
  k: number;
  /** Affinity function. */
  gating: TopKGating;
  /** Gate normalisation of `'softmax'` gating (absent with `'sigmoid'`). */
  gates: GateNormalization | undefined;
  /** Weight of the Switch load-balancing loss. */
  loadBalancingWeight: number;
  /** Which library's load-balancing loss. */
  loadBalancingConvention: LoadBalancingConventionName;
  /** Token groups the load-balancing loss is averaged over. */
  loadBalancingGroups: number;
  /** Update rate `u` of the aux-loss-free bias (0: no update). */
  biasUpdateRate: number;
  /** The starting bias, when one was given (`getConfig` saves the current bias here). */
  expertBias?: number[];
}

/** The check of `gates` with softmax gating. */
const gatesSpec = arg.oneOf<GateNormalization>(['topKSoftmax', 'softmax']);

/**
 * Top-k token choice as a {@link RoutingAlgorithm}: every token chooses the `k` experts of highest
 * affinity, with softmax gating (`Softmax(KeepTopK(logits, k))`, Shazeer et al. 2017 Eq. 3, or the full
 * softmax's values) or DeepSeek-V3's sigmoid gating with top-k normalisation
 * (https://arxiv.org/abs/2412.19437, §2.1.2 Eqs. 13-15: `s = σ(u·e)`, `g_i = s_i / Σ_{top-k} s_j`), and
 * optionally auxiliary-loss-free load balancing (Wang et al. 2024, https://arxiv.org/abs/2408.15664;
 * DeepSeek-V3 Eq. 16): selection by the top-k of `s + b`, gates from the unbiased `s`.
 *
 * Returns token choices for core to place: `probs` holds the gates at the chosen experts and 0 elsewhere
 * (the full softmax with `gates: 'softmax'`), so the MoE combines with them as they are
 * (`renormalize: 'none'`, the default). The selection runs off the gradient tape; the gate learns through
 * the gates and the load-balancing loss. No host read.
 *
 * The bias is state. It is updated on the device inside every `route` call with `training: true`, after
 * that call's selection (so each step selects with the bias of the steps before it — Algorithm 1's
 * "after each step"); a training step that routes several times (adversarial attacks, several forward
 * passes) updates it several times. It is used for selection in evaluation too (DeepSeek-V3), and is
 * saved by `getConfig` as `expertBias` (one `[E]` host read when saving), so a model saved with
 * `model.save` restores it. It is the non-trainable variable `bias` ({@link TopKChoice.nonTrainableVariables}),
 * released by {@link TopKChoice.dispose} (a `GatedRouter` disposes its algorithm, `MoELayer.dispose`
 * its router once no model holds the layer).
 *
 * @example
 * ```ts
 * import { GatedRouter, LinearGate } from '@moekit/core';
 * import { TopKChoice } from '@moekit/router-topk';
 *
 * // DeepSeek-V3 routing: sigmoid affinities, top-8 normalised gates, aux-loss-free balancing
 * const router = new GatedRouter({
 *   gate: new LinearGate({ numOutputs: 64 }),
 *   algorithm: new TopKChoice({ numExperts: 64, k: 8, gating: 'sigmoid', biasUpdateRate: 1e-3 }),
 * });
 * ```
 */
export class TopKChoice extends Component<TopKChoiceArgs, TopKChoiceConfig> implements RoutingAlgorithm {
  /** Name under which the class is registered for (de)serialisation. */
  static readonly className = 'TopKChoice';
  /** The arguments: defaults (`gates` and `loadBalancingWeight` following `gating`) and checks. */
  static readonly argsTable: ArgsTable<TopKChoiceArgs> = {
    numExperts: arg.integer({ min: 1 }),
    k: arg.integer({ min: 1, max: (r) => r['numExperts'] as number, default: 2 }),
    gating: arg.oneOf<TopKGating>(['softmax', 'sigmoid'], { default: 'softmax' }),
    gates: arg.value<GateNormalization>({
      optional: true,
      defaultFrom: (r) => (r['gating'] === 'softmax' ? 'topKSoftmax' : undefined),
      check: (where, name, value, resolved) => {
        if (resolved['gating'] === 'sigmoid') {
          throw new MoEArgumentError(where, name, "no value with gating 'sigmoid' (sigmoid gates are normalised over the top-k, DeepSeek-V3 Eq. 13)", `'${value}'`);
        }
        gatesSpec.check!(where, name, value, resolved);
      },
    }),
    biasUpdateRate: arg.number({ min: 0, default: 0 }),
    loadBalancingWeight: arg.number({ min: 0, defaultFrom: (r) => (r['gating'] === 'sigmoid' && (r['biasUpdateRate'] as number) > 0 ? 0 : 0.01) }),
    loadBalancingConvention: arg.oneOf<LoadBalancingConventionName>(Object.keys(loadBalancingConventions) as LoadBalancingConventionName[], { default: 'switch' }),
    loadBalancingGroups: arg.integer({ min: 1, default: 1 }),
    expertBias: arg.value<number[]>({ optional: true }), // checked by AuxLossFreeBias
  };
  private readonly bias: AuxLossFreeBias | undefined;

  /** Validates the arguments (unknown options are rejected by name); creates the bias `bias` (non-trainable) if one is used. */
  constructor(args: TopKChoiceArgs) {
    super(args);
    const { numExperts, biasUpdateRate, expertBias } = this.config;
    if (biasUpdateRate > 0 || expertBias !== undefined) {
      this.bias = new AuxLossFreeBias({ numExperts, updateRate: biasUpdateRate, ...(expertBias !== undefined ? { initial: expertBias } : {}) });
      this.addVariable('bias', this.bias.variable, false); // owned (saved, disposed) by this component
    }
  }

  /** Experts `E`. */
  get numExperts(): number {
    return this.config.numExperts;
  }

  /** Choices per token `K`. */
  get k(): number {
    return this.config.k;
  }

  /** The `[E]` selection bias `b` (a non-trainable variable), or `undefined` without aux-loss-free balancing. */
  get expertBias(): tf.Variable | undefined {
    const where = 'TopKChoice.expertBias';
    this.assertLive(where);
    return this.hasVariable('bias') ? this.variable('bias', where) : undefined;
  }

  /**
   * `[T, E]` logits → `k` choices per token, their gates as `probs`, and the load-balancing loss;
   * in training, then updates the bias. The caller owns everything returned.
   */
  route(logits: tf.Tensor2D, options: RouteOptions): TokenChoiceOutput {
    const where = 'TopKChoice.route';
    this.assertLive(where);
    checkRank(where, 'logits', logits, 2);
    checkShape(where, 'logits', logits, [logits.shape[0], this.numExperts]);
    const { numExperts, k, gating, gates, loadBalancingWeight, loadBalancingConvention, loadBalancingGroups } = this.config;
    checkExcludedLeaveK(where, options.excludedExperts, numExperts, k); // the gate applied them to the logits
    return tf.tidy(() => {
      const u = tf.cast(logits, 'float32') as tf.Tensor2D; // [T, E] u·e_i
      const scores = (gating === 'sigmoid' ? tf.sigmoid(u) : tf.softmax(u)) as tf.Tensor2D; // [T, E] s (DeepSeek-V3 Eq. 15 / softmax)
      // selection: top-k of s + b (Wang et al. Eq. 3, DeepSeek-V3 Eq. 16), or of the logits (same order as s)
      const chosen = this.bias === undefined ? selectTopK(u, k) : selectTopK(this.bias.biasedScores(scores, u), k); // [T, K]
      const probs =
        gating === 'sigmoid' ? topKNormalized(scores, chosen, numExperts) // [T, E] s_i / Σ_top-k s_j (Eqs. 13-14)
        : gates === 'topKSoftmax' ? topKSoftmax(u, chosen, numExperts) // [T, E] Softmax(KeepTopK(u, k)) (Shazeer Eq. 3)
        : scores; // [T, E] full softmax (Switch, V-MoE)
      // P of Switch's E·Σ f·P: the router probabilities; for sigmoid, s normalised over all experts (DeepSeek-V3 Eq. 19's s')
      const balanceProbs = gating === 'sigmoid' ? (tf.div(scores, tf.add(tf.sum(scores, 1, true), 1e-20)) as tf.Tensor2D) : scores; // [T, E]
      const loadBalancing = loadBalancingLoss(balanceProbs, chosen, numExperts, { convention: loadBalancingConvention, numGroups: loadBalancingGroups });
      const total = tf.mul(loadBalancingWeight, loadBalancing) as tf.Scalar;
      if (options.training && this.bias !== undefined) this.bias.update(chosen); // after this call's selection (Algorithm 1 line 6)
      return { logits: tf.clone(u), probs, expertIndex: chosen, auxLosses: { total, loadBalancing } };
    });
  }

  /** The arguments, with the current bias as `expertBias` (one `[E]` host read). */
  override getConfig(): tf.serialization.ConfigDict {
    this.assertLive('TopKChoice.getConfig');
    return { ...super.getConfig(), ...(this.bias !== undefined ? { expertBias: this.bias.values() } : {}) };
  }
}

/** Creates a {@link TopKChoice}, mirroring `tf.layers.dense(args)`. */
export function topKChoice(args: TopKChoiceArgs): TopKChoice {
  return new TopKChoice(args);
}
