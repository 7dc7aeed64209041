import * as tf from '@tensorflow/tfjs-core';
import {
  arg,
  Component,
  excludeExperts,
  checkExpertSelection,
  checkGateInput,
  checkRouteOptions,
  copyExpertSlices,
  createGateKernel,
  gateInitializers,
  importanceLoss,
  loadBalancingConventions,
  loadBalancingLoss,
  oneHotFloat,
  selectTopK,
  type ArgsTable,
  type Capability,
  type GateInitializer,
  type LoadBalancingConventionName,
  type RouteOptions,
  type Router,
  type TokenChoiceOutput,
} from '@moekit/core';
import { checkExcludedLeaveK } from './excluded-leave-k.js';
import { keptChoices, type SecondExpertPolicy } from './second-expert-policy.js';
import { shazeerLoad } from './shazeer-load.js';
import { topKSoftmax } from './top-k-softmax.js';
import { vmoeLoad } from './vmoe-load.js';

/**
 * Noise added to the gate logits while training (none in evaluation):
 * `'shazeer'` — learned, per token and expert: `H = x·W_g + N(0,1)·(Softplus(x·W_noise) + ε)`
 * (Shazeer et al. 2017, Eq. 4; ε = 1e-2 as tensor2tensor);
 * `'gaussian'` — V-MoE's fixed `N(0, (noiseStd / E)²)` (Riquelme et al. 2021);
 * `'gumbel'` — Gumbel(0, 1) noise for the selection only, gates from the clean logits;
 * `'none'` — deterministic softmax top-k.
 */
export type TopKNoise = 'none' | 'shazeer' | 'gaussian' | 'gumbel';

/**
 * How combine gates are formed from the (noisy) logits `H`: `'topKSoftmax'` — `Softmax(KeepTopK(H, k))`,
 * summing to 1 over the chosen experts (Shazeer Eq. 3, Mixtral); `'softmax'` — the full softmax's value
 * at each chosen expert, not renormalised (V-MoE, Switch).
 */
export type GateNormalization = 'topKSoftmax' | 'softmax';

/** Configuration of a {@link TopKRouter}. */
export interface TopKRouterArgs {
  /** Experts `E` (≥ 1). */
  numExperts: number;
  /** Experts chosen per token `K`, in `[1, E]`. Default 2. */
  k?: number;
  /** Gate input width `Dg`; when omitted the weights are built from the first input. */
  inputDim?: number;
  /** Training-time noise. Default `'shazeer'`. */
  noise?: TopKNoise;
  /** `'gaussian'` noise: V-MoE's `noise_std`, the std being `noiseStd / E`. Default 1. Must be ≥ 0. */
  noiseStd?: number;
  /** `'shazeer'` noise: added to `Softplus(x·W_noise)` (tensor2tensor's `noise_epsilon`). Default 1e-2. */
  noiseEpsilon?: number;
  /** Gate normalisation. Default `'softmax'` with `'gaussian'` noise (V-MoE), else `'topKSoftmax'`. */
  gates?: GateNormalization;
  /** Which later choices are dispatched (k ≥ 2). Default `'all'`. `'random'` acts as `'all'` in evaluation. */
  secondExpertPolicy?: SecondExpertPolicy;
  /** Threshold of the `'threshold'` and `'random'` policies. Default 0.5 (GShard's `2·g2`; lucidrains uses 0.2). */
  secondExpertThreshold?: number;
  /** Weight of the importance loss `CV(Σ_x G_clean(x))²` (Shazeer Eq. 6-7). Default 0.01 (tensor2tensor's `loss_coef`). */
  importanceWeight?: number;
  /** Weight of the load loss: Shazeer's smooth load (Eqs. 8-11), V-MoE's, or, without noise, Switch's `E·Σ f·P`. Default 0.01. */
  loadWeight?: number;
  /**
   * Weight of Switch's `E·Σ_i f_i·P_i` (Fedus et al. 2021, Eq. 4) over the NOISE-FREE choice — `f` the
   * share of tokens whose clean top-1 is expert `i`, `P` the clean softmax's mean — added in training
   * whenever noise is drawn (`auxLosses.cleanLoadBalancing`). Evaluation dispatches the noise-free
   * choice; the paper's terms balance the noisy one (Eqs. 8–11), which a router can satisfy by its noise
   * alone and collapse without it. 0 gives the paper's losses exactly. Default 0.01 (Switch's α).
   */
  cleanLoadWeight?: number;
  /**
   * Which library's load-balancing loss `loadBalancing` and `cleanLoadBalancing` are (see `loadBalancingConventions` in
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
  /** Gate kernel initialiser. Default `'zeros'` for `'shazeer'` (tensor2tensor zero-initialises W_g and W_noise), else `'glorotUniform'`. */
  kernelInitializer?: GateInitializer;
  /** Seed of the initialiser and of every training-time draw; unseeded draws differ run to run. */
  seed?: number;
}

/** A {@link TopKRouter}'s arguments with every default filled in. */
export interface TopKRouterConfig extends Required<Omit<TopKRouterArgs, 'inputDim' | 'seed'>>, Pick<TopKRouterArgs, 'inputDim' | 'seed'> {}

/**
 * Softmax top-k routing over a linear gate, with the noisy gating of Shazeer et al. 2017
 * ("Outrageously Large Neural Networks: The Sparsely-Gated Mixture-of-Experts Layer",
 * https://arxiv.org/abs/1701.06538), V-MoE's gaussian noise (https://arxiv.org/abs/2106.05974),
 * Gumbel selection noise, and GShard's second-expert policies (https://arxiv.org/abs/2006.16668).
 *
 * `G(x) = Softmax(KeepTopK(H(x), k))` (Eq. 3) with `H` the logits plus training-time noise (Eq. 4).
 * The router returns `G` as `probs` (zero outside the chosen experts), so the MoE combines with
 * exactly these gates (`renormalize: 'none'`). Its aux losses: `importance` = `CV(Σ_x G_clean(x))²`
 * (Eqs. 6-7) on the gates of the clean logits, so noise does not enter it; and a load term —
 * Shazeer's smooth `CV(Load)²` (Appendix A) with `'shazeer'` noise, V-MoE's with `'gaussian'`, and
 * Switch's `E·Σ f_i·P_i` (`loadBalancing`) when no noise is drawn (`'none'`, `'gumbel'`, evaluation).
 * While training with noise it also adds Switch's term over the noise-free choice (`cleanLoadBalancing`,
 * weight `cleanLoadWeight`), so that the load evaluation sees stays balanced.
 * Its variables: `kernel` (`W_g`) and, with `'shazeer'` noise, `noiseKernel` (`W_noise`).
 *
 * @example
 * ```ts
 * import { MixtureOfExperts } from '@moekit/core';
 * import { TopKRouter } from '@moekit/router-topk';
 *
 * const router = new TopKRouter({ numExperts: 8, k: 2, noise: 'shazeer', seed: 1 });
 * const moe = new MixtureOfExperts({ router, experts });
 * ```
 */
export class TopKRouter extends Component<TopKRouterArgs, TopKRouterConfig> implements Router {
  /** Name under which the class is registered for (de)serialisation. */
  static readonly className = 'TopKRouter';
  /** The arguments: defaults (some following `noise`) and checks. */
  static readonly argsTable: ArgsTable<TopKRouterArgs> = {
    numExperts: arg.integer({ min: 1 }),
    k: arg.integer({ min: 1, max: (r) => r['numExperts'] as number, default: 2 }),
    inputDim: arg.integer({ min: 1, optional: true }),
    noise: arg.oneOf<TopKNoise>(['none', 'shazeer', 'gaussian', 'gumbel'], { default: 'shazeer' }),
    noiseStd: arg.number({ min: 0, default: 1 }),
    noiseEpsilon: arg.number({ min: 0, default: 1e-2 }),
    gates: arg.oneOf<GateNormalization>(['topKSoftmax', 'softmax'], { defaultFrom: (r) => (r['noise'] === 'gaussian' ? 'softmax' : 'topKSoftmax') }),
    secondExpertPolicy: arg.oneOf<SecondExpertPolicy>(['all', 'none', 'threshold', 'random'], { default: 'all' }),
    secondExpertThreshold: arg.number({ above: 0, max: 1, default: 0.5 }),
    importanceWeight: arg.number({ min: 0, default: 0.01 }),
    loadWeight: arg.number({ min: 0, default: 0.01 }),
    cleanLoadWeight: arg.number({ min: 0, default: 0.01 }),
    loadBalancingConvention: arg.oneOf<LoadBalancingConventionName>(Object.keys(loadBalancingConventions) as LoadBalancingConventionName[], { default: 'switch' }),
    loadBalancingGroups: arg.integer({ min: 1, default: 1 }),
    kernelInitializer: arg.oneOf<GateInitializer>(gateInitializers, { defaultFrom: (r) => (r['noise'] === 'shazeer' ? 'zeros' : 'glorotUniform') }),
    seed: arg.number({ optional: true }),
  };
  /** Selects experts, gives its gate weights, and honours excluded experts (their clean logits are −∞ before noise). */
  static readonly capabilities: readonly Capability[] = ['selectExperts', 'gateWeights', 'excludedExperts'];

  /** Validates the arguments (unknown options are rejected by name); builds now if `inputDim` is given. */
  constructor(args: TopKRouterArgs) {
    super(args);
    if (this.config.inputDim !== undefined) this.build(this.config.inputDim);
  }

  /** Experts `E`. */
  get numExperts(): number {
    return this.config.numExperts;
  }

  /** Choices per token `K`. */
  get k(): number {
    return this.config.k;
  }

  /** The gate-input width `Dg` of `W_g` once built (`undefined` before). */
  get inputDim(): number | undefined {
    return this.variableShape('kernel')?.[0];
  }

  /** Creates the gate kernel `W_g` `[Dg, E]` (and `W_noise` for `'shazeer'`); a second call is a no-op. */
  build(inputDim: number): void {
    this.assertLive('TopKRouter.build');
    if (this.hasVariable('kernel')) return;
    const { numExperts, kernelInitializer, noise } = this.config;
    this.addVariable('kernel', createGateKernel(inputDim, numExperts, kernelInitializer, this.seeds.next()));
    if (noise === 'shazeer') this.addVariable('noiseKernel', createGateKernel(inputDim, numExperts, kernelInitializer, this.seeds.next()));
  }

  /** Scores `[T, Dg]`, draws the training noise, chooses `k` experts per token and computes the aux losses. */
  route(gateInput: tf.Tensor2D, options: RouteOptions): TokenChoiceOutput {
    const where = 'TopKRouter.route';
    this.assertLive(where);
    checkRouteOptions(where, options);
    this.build(gateInput.shape[gateInput.rank - 1]!);
    const wg = this.variable('kernel', where); // [Dg, E] W_g
    const noiseKernel = this.config.noise === 'shazeer' ? this.variable('noiseKernel', where) : undefined; // [Dg, E] W_noise
    checkGateInput(where, gateInput, wg.shape[0]!);
    const { noise, numExperts, k, gates, noiseStd, noiseEpsilon, importanceWeight, loadWeight, cleanLoadWeight, secondExpertPolicy, secondExpertThreshold } = this.config;
    checkExcludedLeaveK(where, options.excludedExperts, numExperts, k);
    const numTokens = gateInput.shape[0];
    return tf.tidy(() => {
      const clean = excludeExperts(tf.matMul(gateInput, wg as tf.Tensor2D) as tf.Tensor2D, options.excludedExperts); // [T, E] x·W_g (−∞ for excluded experts)
      let noisy = clean; // [T, E] H(x)
      let std: tf.Tensor2D | number | undefined;
      let selectionScores = clean;
      if (options.training) {
        if (noise === 'shazeer') {
          std = tf.add(tf.softplus(tf.matMul(gateInput, noiseKernel as tf.Tensor2D)), noiseEpsilon) as tf.Tensor2D; // [T, E] Eq. 4
          noisy = tf.add(clean, tf.mul(tf.randomNormal([numTokens, numExperts], 0, 1, 'float32', this.seeds.next()), std)) as tf.Tensor2D;
        } else if (noise === 'gaussian' && noiseStd > 0) {
          std = noiseStd / numExperts; // V-MoE: noise_std / num_experts
          noisy = tf.add(clean, tf.randomNormal([numTokens, numExperts], 0, std, 'float32', this.seeds.next())) as tf.Tensor2D;
        }
        selectionScores = noisy;
        if (noise === 'gumbel') {
          const uniform = tf.randomUniform([numTokens, numExperts], 1e-20, 1, 'float32', this.seeds.next());
          selectionScores = tf.sub(clean, tf.log(tf.neg(tf.log(uniform)))) as tf.Tensor2D; // + Gumbel(0, 1)
        }
      }
      const chosen = selectTopK(selectionScores, k); // [T, K]
      let gateValues = gates === 'topKSoftmax' ? topKSoftmax(noisy, chosen, numExperts) : (tf.softmax(noisy) as tf.Tensor2D); // [T, E]

      let expertIndex = chosen;
      if (k > 1 && secondExpertPolicy !== 'all') {
        const policy = !options.training && secondExpertPolicy === 'random' ? 'all' : secondExpertPolicy;
        const chosenMask = oneHotFloat(chosen, numExperts); // [T, K, E]
        const chosenGates = tf.sum(tf.mul(chosenMask, tf.expandDims(gateValues, 1)), 2) as tf.Tensor2D; // [T, K]
        const kept = keptChoices(chosenGates, policy, secondExpertThreshold, this.seeds.next()); // [T, K]
        expertIndex = tf.where(tf.greater(kept, 0.5), chosen, tf.fill(chosen.shape, -1, 'int32')) as tf.Tensor2D; // read on the host only
        const droppedExperts = tf.sum(tf.mul(chosenMask, tf.expandDims(tf.sub(1, kept), 2)), 1); // [T, E]
        gateValues = tf.mul(gateValues, tf.sub(1, droppedExperts)) as tf.Tensor2D; // a skipped expert's gate is 0, the others keep theirs (GShard)
      }

      // importance on the clean gates (noise does not enter it), Shazeer Eqs. 6-7
      const cleanGates = gates === 'topKSoftmax' ? topKSoftmax(clean, selectTopK(clean, k), numExperts) : (tf.softmax(clean) as tf.Tensor2D);
      const importance = importanceLoss(cleanGates);
      const balanceOptions = { convention: this.config.loadBalancingConvention, numGroups: this.config.loadBalancingGroups };
      let loadPart: [string, tf.Scalar];
      if (std !== undefined && noise === 'shazeer') {
        loadPart = ['load', importanceLoss(tf.expandDims(shazeerLoad(clean, noisy, std, k), 0) as tf.Tensor2D)]; // CV(Load)², Eq. 11
      } else if (std !== undefined && noise === 'gaussian') {
        loadPart = ['load', vmoeLoad(clean, noisy, std as number, k)];
      } else {
        loadPart = ['loadBalancing', loadBalancingLoss(tf.softmax(clean) as tf.Tensor2D, chosen, numExperts, balanceOptions)];
      }
      let total = tf.add(tf.mul(importanceWeight, importance), tf.mul(loadWeight, loadPart[1])) as tf.Scalar;
      const auxLosses: Record<string, tf.Scalar> = { importance, [loadPart[0]]: loadPart[1] };
      if (options.training && noise !== 'none' && cleanLoadWeight > 0) {
        // balance what evaluation dispatches: the noise-free choice (Switch Eq. 4 on the clean logits)
        const cleanLoadBalancing = loadBalancingLoss(tf.softmax(clean) as tf.Tensor2D, selectTopK(clean, k), numExperts, balanceOptions);
        auxLosses['cleanLoadBalancing'] = cleanLoadBalancing;
        total = tf.add(total, tf.mul(cleanLoadWeight, cleanLoadBalancing));
      }
      return { logits: clean, probs: gateValues, expertIndex, auxLosses: { total, ...auxLosses } };
    });
  }

  /** A copy of the gate kernel `W_g` `[Dg, E]`: column `e` is expert `e`'s router weight vector. Throws before the router is built. */
  gateWeights(): tf.Tensor2D {
    return tf.clone(this.variable('kernel', 'TopKRouter.gateWeights')) as tf.Tensor2D;
  }

  /**
   * A new router over the experts `keep` (expert `keep[i]` becomes expert `i`): the kept columns of
   * `W_g` (and `W_noise`) copied, `k = min(k, keep.length)`, every other option unchanged; this router
   * is left untouched. Throws before the router is built.
   */
  selectExperts(keep: readonly number[]): TopKRouter {
    const where = 'TopKRouter.selectExperts';
    const wg = this.variable('kernel', where);
    checkExpertSelection(where, keep, this.numExperts);
    const router = new TopKRouter({ ...this.config, numExperts: keep.length, k: Math.min(this.k, keep.length), inputDim: wg.shape[0]! });
    copyExpertSlices(router.variable('kernel', where), wg, keep, 1);
    if (this.hasVariable('noiseKernel')) copyExpertSlices(router.variable('noiseKernel', where), this.variable('noiseKernel', where), keep, 1);
    return router;
  }
}

/** Creates a {@link TopKRouter}, mirroring `tf.layers.dense(args)`. */
export function topKRouter(args: TopKRouterArgs): TopKRouter {
  return new TopKRouter(args);
}
