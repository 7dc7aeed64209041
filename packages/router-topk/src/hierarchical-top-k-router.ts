import * as tf from '@tensorflow/tfjs-core';
import {
  arg,
  checkGateInput,
  chosenExpertsMask,
  Component,
  createGateKernel,
  gateInitializers,
  importanceLoss,
  loadBalancingLoss,
  MoEArgumentError,
  oneHotFloat,
  selectTopK,
  type ArgsTable,
  type GateInitializer,
  type RouteOptions,
  type Router,
  type TokenChoiceOutput,
} from '@moekit/core';
import { probInTopK, shazeerLoad } from './shazeer-load.js';
import { topKSoftmax } from './top-k-softmax.js';

/** Configuration of a {@link HierarchicalTopKRouter}. */
export interface HierarchicalTopKRouterArgs {
  /** Groups `a` chosen among by the primary gate (≥ 1). */
  numGroups: number;
  /** Experts `b` per group; the router scores `E = a · b` experts, expert `i·b + j` being expert `j` of group `i`. */
  expertsPerGroup: number;
  /** Groups chosen per token by the primary gate, in `[1, a]`. Default 1. */
  kGroups?: number;
  /** Experts chosen per token within each chosen group, in `[1, b]`. Default 2. */
  kExperts?: number;
  /** Gate input width `Dg`; when omitted the weights are built from the first input. */
  inputDim?: number;
  /** Noisy gating at both levels (`'shazeer'`, as the paper) or none. Default `'shazeer'`. */
  noise?: 'shazeer' | 'none';
  /** Added to `Softplus(x·W_noise)`. Default 1e-2. */
  noiseEpsilon?: number;
  /** Weight of `CV(Importance_H)²` (Appendix B, Eq. 14). Default 0.01. */
  importanceWeight?: number;
  /** Weight of `CV(Load_H)²` (Appendix B, Eq. 15). Default 0.01. */
  loadWeight?: number;
  /** Gate kernel initialiser. Default `'zeros'` (tensor2tensor). */
  kernelInitializer?: GateInitializer;
  /** Seed of the initialisers and of every training-time draw. */
  seed?: number;
}

/** A {@link HierarchicalTopKRouter}'s arguments with every default filled in. */
export interface HierarchicalTopKRouterConfig extends Required<Omit<HierarchicalTopKRouterArgs, 'inputDim' | 'seed'>>, Pick<HierarchicalTopKRouterArgs, 'inputDim' | 'seed'> {}

/**
 * The two-level hierarchical MoE of Shazeer et al. 2017 (https://arxiv.org/abs/1701.06538),
 * Appendix B: a primary noisy top-k gate over `a` groups and, within each group `i`, a secondary
 * noisy top-k gate over its `b` experts; `y_H = Σ_i Σ_j G_primary(x)_i · G_i(x)_j · E_{i,j}(x)` (Eq. 12).
 * Expert `i·b + j` is expert `j` of group `i`; each token takes `K = kGroups · kExperts` choices.
 * Aux losses (Eqs. 13-15): `importance` = `CV(Importance_H)²`, `Importance_H(X)_{i,j} =
 * Σ_x G_primary(x)_i · G_i(x)_j` on clean gates, and `load` = `CV(Load_H)²`, `Load_H(X)_{i,j} =
 * Load_primary(X)_i · Load_i(X^(i))_j / |X^(i)|` with `X^(i)` the tokens the primary gate sent to
 * group `i` (tensor2tensor's `secondary_load · primary_smooth_load / primary_true_load`). Without
 * noise (evaluation) the load term is Switch's `loadBalancing` over the `E` experts. Its variables:
 * `primary`, `secondary` and, with noise, `primaryNoise`, `secondaryNoise`. It declares no capabilities.
 *
 * @example
 * ```ts
 * import { HierarchicalTopKRouter } from '@moekit/router-topk';
 *
 * const router = new HierarchicalTopKRouter({ numGroups: 4, expertsPerGroup: 8, kGroups: 1, kExperts: 2 }); // E = 32, K = 2
 * ```
 */
export class HierarchicalTopKRouter extends Component<HierarchicalTopKRouterArgs, HierarchicalTopKRouterConfig> implements Router {
  /** Name under which the class is registered for (de)serialisation. */
  static readonly className = 'HierarchicalTopKRouter';
  /** The arguments: defaults and checks. */
  static readonly argsTable: ArgsTable<HierarchicalTopKRouterArgs> = {
    numGroups: arg.integer({ min: 1 }),
    expertsPerGroup: arg.integer({ min: 1 }),
    kGroups: arg.integer({ min: 1, max: (r) => r['numGroups'] as number, default: 1 }),
    kExperts: arg.integer({ min: 1, max: (r) => r['expertsPerGroup'] as number, default: 2 }),
    inputDim: arg.integer({ min: 1, optional: true }),
    noise: arg.oneOf<'shazeer' | 'none'>(['shazeer', 'none'], { default: 'shazeer' }),
    noiseEpsilon: arg.number({ min: 0, default: 1e-2 }),
    importanceWeight: arg.number({ min: 0, default: 0.01 }),
    loadWeight: arg.number({ min: 0, default: 0.01 }),
    kernelInitializer: arg.oneOf<GateInitializer>(gateInitializers, { default: 'zeros' }),
    seed: arg.number({ optional: true }),
  };

  /** Validates the arguments (unknown options are rejected by name); builds now if `inputDim` is given. */
  constructor(args: HierarchicalTopKRouterArgs) {
    super(args);
    if (this.config.inputDim !== undefined) this.build(this.config.inputDim);
  }

  /** Experts `E = a · b`. */
  get numExperts(): number {
    return this.config.numGroups * this.config.expertsPerGroup;
  }

  /** Choices per token `K = kGroups · kExperts`. */
  get k(): number {
    return this.config.kGroups * this.config.kExperts;
  }

  /** Creates the gate kernels `primary` `[Dg, a]` and `secondary` `[Dg, a·b]` (and `primaryNoise`, `secondaryNoise` for `'shazeer'`); a second call is a no-op. */
  build(inputDim: number): void {
    this.assertLive('HierarchicalTopKRouter.build');
    if (this.hasVariable('primary')) return;
    const { numGroups, kernelInitializer, noise } = this.config;
    const add = (name: string, width: number) => this.addVariable(name, createGateKernel(inputDim, width, kernelInitializer, this.seeds.next()));
    add('primary', numGroups);
    add('secondary', this.numExperts);
    if (noise === 'shazeer') {
      add('primaryNoise', numGroups);
      add('secondaryNoise', this.numExperts);
    }
  }

  /** Routes `[T, Dg]` through both gates. */
  route(gateInput: tf.Tensor2D, options: RouteOptions): TokenChoiceOutput {
    const where = 'HierarchicalTopKRouter.route';
    this.assertLive(where);
    this.build(gateInput.shape[gateInput.rank - 1]!);
    const { noise } = this.config;
    const w = {
      primary: this.variable('primary', where), // [Dg, a]
      secondary: this.variable('secondary', where), // [Dg, a·b]
      primaryNoise: noise === 'shazeer' ? this.variable('primaryNoise', where) : undefined, // [Dg, a]
      secondaryNoise: noise === 'shazeer' ? this.variable('secondaryNoise', where) : undefined, // [Dg, a·b]
    };
    checkGateInput(where, gateInput, w.primary.shape[0]!);
    const { numGroups: a, expertsPerGroup: b, kGroups, kExperts, noiseEpsilon, importanceWeight, loadWeight } = this.config;
    const numTokens = gateInput.shape[0];
    const noisyGating = options.training && noise === 'shazeer';
    return tf.tidy(() => {
      // one noisy gate: clean logits, noisy logits and noise std, Shazeer Eq. 4
      const gate = (kernel: tf.Variable, noiseKernel: tf.Variable | undefined, width: number) => {
        const clean = tf.matMul(gateInput, kernel as tf.Tensor2D) as tf.Tensor2D;
        if (!noisyGating) return { clean, noisy: clean, std: undefined };
        const std = tf.add(tf.softplus(tf.matMul(gateInput, noiseKernel as tf.Tensor2D)), noiseEpsilon) as tf.Tensor2D;
        const noisy = tf.add(clean, tf.mul(tf.randomNormal([numTokens, width], 0, 1, 'float32', this.seeds.next()), std)) as tf.Tensor2D;
        return { clean, noisy, std };
      };
      const primary = gate(w.primary, w.primaryNoise, a); // [T, a]
      const secondary = gate(w.secondary, w.secondaryNoise, this.numExperts); // [T, a·b]
      const perGroup = (t: tf.Tensor2D) => tf.unstack(tf.reshape(t, [numTokens, a, b]), 1) as tf.Tensor2D[]; // a × [T, b]

      // gates: G_primary [T, a] and, per group, G_i [T, b]; the expert gate is their product (Eq. 12)
      const primaryChosen = selectTopK(primary.noisy, kGroups); // [T, kGroups]
      const primaryGates = topKSoftmax(primary.noisy, primaryChosen, a); // [T, a]
      const secondaryNoisy = perGroup(secondary.noisy);
      const secondaryChosen = secondaryNoisy.map((s) => selectTopK(s, kExperts)); // a × [T, kExperts]
      const secondaryGates = secondaryNoisy.map((s, i) => topKSoftmax(s, secondaryChosen[i]!, b)); // a × [T, b]
      const gates = tf.reshape(tf.mul(tf.expandDims(primaryGates, 2), tf.stack(secondaryGates, 1)), [numTokens, this.numExperts]) as tf.Tensor2D; // [T, E]

      // expert index i·b + j for each chosen group i and each of its chosen experts j, group-major
      const expertIndex = tf.tidy(() => {
        const groupOf = tf.unstack(primaryChosen, 1) as tf.Tensor1D[]; // kGroups × [T]
        const stackedChoices = tf.stack(secondaryChosen, 1); // [T, a, kExperts]
        const columns = groupOf.map((g) => {
          const withinGroup = tf.sum(tf.mul(stackedChoices, tf.expandDims(tf.cast(oneHotFloat(g, a), 'int32'), 2)), 1); // [T, kExperts]
          return tf.add(tf.mul(tf.expandDims(g, 1), tf.scalar(b, 'int32')), withinGroup);
        });
        return tf.concat(columns, 1) as tf.Tensor2D; // [T, K]
      });

      // Importance_H on clean gates (Eq. 14)
      const cleanPrimary = topKSoftmax(primary.clean, selectTopK(primary.clean, kGroups), a);
      const cleanSecondary = perGroup(secondary.clean).map((s) => topKSoftmax(s, selectTopK(s, kExperts), b));
      const importanceH = tf.sum(tf.mul(tf.expandDims(cleanPrimary, 2), tf.stack(cleanSecondary, 1)), 0); // [a, b]
      const importance = importanceLoss(tf.reshape(importanceH, [1, this.numExperts]) as tf.Tensor2D);

      let loadPart: [string, tf.Scalar];
      if (noisyGating) {
        // Load_H(X)_{i,j} = Load_primary(X)_i · Load_i(X^(i))_j / |X^(i)| (Eq. 15)
        const primaryLoad = shazeerLoad(primary.clean, primary.noisy, primary.std!, kGroups); // [a] smooth
        const routed = chosenExpertsMask(primaryChosen, a); // [T, a] x ∈ X^(i), a constant
        const stdPerGroup = perGroup(secondary.std!);
        const cleanPerGroup = perGroup(secondary.clean);
        const secondaryLoad = tf.stack(secondaryNoisy.map((s, i) => {
          const p = probInTopK(cleanPerGroup[i]!, s, stdPerGroup[i]!, kExperts); // [T, b]
          return tf.sum(tf.mul(p, tf.slice(routed, [0, i], [-1, 1])), 0); // [b] over X^(i)
        })); // [a, b]
        const groupSize = tf.sum(routed, 0); // [a] |X^(i)|
        const loadH = tf.mul(secondaryLoad, tf.expandDims(tf.div(primaryLoad, tf.add(groupSize, 1e-10)), 1)); // [a, b]
        loadPart = ['load', importanceLoss(tf.reshape(loadH, [1, this.numExperts]) as tf.Tensor2D)];
      } else {
        loadPart = ['loadBalancing', loadBalancingLoss(gates, expertIndex, this.numExperts)];
      }
      const total = tf.add(tf.mul(importanceWeight, importance), tf.mul(loadWeight, loadPart[1])) as tf.Scalar;
      const logits = tf.add(tf.reshape(tf.expandDims(primary.clean, 2), [numTokens, a, 1]), tf.reshape(secondary.clean, [numTokens, a, b])); // [T, a, b]
      return { logits: tf.reshape(logits, [numTokens, this.numExperts]) as tf.Tensor2D, probs: gates, expertIndex, auxLosses: { total, importance, [loadPart[0]]: loadPart[1] } };
    });
  }

  /**
   * Not supported (the router does not declare the `'selectExperts'` capability), and always throws a
   * reason that a capability check cannot give: the primary gate scores whole groups of exactly `b` experts
   * (`E = a · b`, Eq. 12), so an arbitrary subset of experts is not a hierarchical router; the caller
   * gets an `MoEArgumentError` saying so instead of a silently different routing.
   */
  selectExperts(keep: readonly number[]): Router {
    throw new MoEArgumentError('HierarchicalTopKRouter.selectExperts', 'keep', `a router with a flat gate (the hierarchical gate needs ${this.config.numGroups} groups of exactly ${this.config.expertsPerGroup} experts; pruning single experts would break it)`, `${Array.isArray(keep) ? keep.length : String(keep)} experts to keep`);
  }
}
