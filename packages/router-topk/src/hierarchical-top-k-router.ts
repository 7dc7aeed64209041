import * as tf from '@tensorflow/tfjs-core';
import {
  checkGateInput,
  checkInteger,
  checkNonNegative,
  checkOneOf,
  createGateKernel,
  definedConfig,
  importanceLoss,
  loadBalancingLoss,
  MoEArgumentError,
  oneHotFloat,
  rejectUnknownOptions,
  SeedStream,
  selectTopK,
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
export type HierarchicalTopKRouterConfig = Required<Omit<HierarchicalTopKRouterArgs, 'inputDim' | 'seed'>> & Pick<HierarchicalTopKRouterArgs, 'inputDim' | 'seed'>;
const KNOWN = ['numGroups', 'expertsPerGroup', 'kGroups', 'kExperts', 'inputDim', 'noise', 'noiseEpsilon', 'importanceWeight', 'loadWeight', 'kernelInitializer', 'seed'];

function resolve(args: HierarchicalTopKRouterArgs): HierarchicalTopKRouterConfig {
  const where = 'HierarchicalTopKRouter';
  rejectUnknownOptions(where, args, KNOWN);
  const r: HierarchicalTopKRouterConfig = {
    numGroups: args.numGroups,
    expertsPerGroup: args.expertsPerGroup,
    kGroups: args.kGroups ?? 1,
    kExperts: args.kExperts ?? 2,
    inputDim: args.inputDim,
    noise: args.noise ?? 'shazeer',
    noiseEpsilon: args.noiseEpsilon ?? 1e-2,
    importanceWeight: args.importanceWeight ?? 0.01,
    loadWeight: args.loadWeight ?? 0.01,
    kernelInitializer: args.kernelInitializer ?? 'zeros',
    seed: args.seed,
  };
  checkInteger(where, 'numGroups', r.numGroups, 1);
  checkInteger(where, 'expertsPerGroup', r.expertsPerGroup, 1);
  checkInteger(where, 'kGroups', r.kGroups, 1, r.numGroups);
  checkInteger(where, 'kExperts', r.kExperts, 1, r.expertsPerGroup);
  if (r.inputDim !== undefined) checkInteger(where, 'inputDim', r.inputDim, 1);
  checkOneOf(where, 'noise', r.noise, ['shazeer', 'none']);
  checkOneOf(where, 'kernelInitializer', r.kernelInitializer, ['zeros', 'glorotUniform', 'switch']);
  for (const name of ['noiseEpsilon', 'importanceWeight', 'loadWeight'] as const) checkNonNegative(where, name, r[name]);
  return r;
}

/**
 * The two-level hierarchical MoE of Shazeer et al. 2017 (https://arxiv.org/abs/1701.06538),
 * Appendix B: a primary noisy top-k gate over `a` groups and, within each group `i`, a secondary
 * noisy top-k gate over its `b` experts; `y_H = Σ_i Σ_j G_primary(x)_i · G_i(x)_j · E_{i,j}(x)` (Eq. 12).
 * Expert `i·b + j` is expert `j` of group `i`; each token takes `K = kGroups · kExperts` choices.
 * Aux losses (Eqs. 13-15): `importance` = `CV(Importance_H)²`, `Importance_H(X)_{i,j} =
 * Σ_x G_primary(x)_i · G_i(x)_j` on clean gates, and `load` = `CV(Load_H)²`, `Load_H(X)_{i,j} =
 * Load_primary(X)_i · Load_i(X^(i))_j / |X^(i)|` with `X^(i)` the tokens the primary gate sent to
 * group `i` (tensor2tensor's `secondary_load · primary_smooth_load / primary_true_load`). Without
 * noise (evaluation) the load term is Switch's `loadBalancing` over the `E` experts.
 *
 * @example
 * ```ts
 * const router = new HierarchicalTopKRouter({ numGroups: 4, expertsPerGroup: 8, kGroups: 1, kExperts: 2 }); // E = 32, K = 2
 * ```
 */
export class HierarchicalTopKRouter extends tf.serialization.Serializable implements Router {
  /** Name under which the class is registered for (de)serialisation. */
  static readonly className = 'HierarchicalTopKRouter';
  /** Experts `E = a · b`. */
  readonly numExperts: number;
  /** Choices per token `K = kGroups · kExperts`. */
  readonly k: number;
  /** The validated arguments, defaults filled in. */
  readonly config: Readonly<HierarchicalTopKRouterConfig>;
  private weights: { primary: tf.Variable; primaryNoise?: tf.Variable; secondary: tf.Variable; secondaryNoise?: tf.Variable } | undefined;
  private readonly seeds: SeedStream;

  /** Validates the arguments; builds now if `inputDim` is given. */
  constructor(args: HierarchicalTopKRouterArgs) {
    super();
    this.config = resolve(args);
    this.numExperts = this.config.numGroups * this.config.expertsPerGroup;
    this.k = this.config.kGroups * this.config.kExperts;
    this.seeds = new SeedStream(this.config.seed);
    if (this.config.inputDim !== undefined) this.build(this.config.inputDim);
  }

  /** Creates the primary `[Dg, a]` and secondary `[Dg, a·b]` gate kernels (and noise kernels). */
  build(inputDim: number): void {
    if (this.weights !== undefined) return;
    const { numGroups, kernelInitializer, noise } = this.config;
    const make = (width: number) => createGateKernel(inputDim, width, kernelInitializer, this.seeds.next());
    this.weights = {
      primary: make(numGroups),
      secondary: make(this.numExperts),
      ...(noise === 'shazeer' ? { primaryNoise: make(numGroups), secondaryNoise: make(this.numExperts) } : {}),
    };
  }

  /** The primary and secondary gate (and noise) kernels; empty before the router is built. */
  get trainableVariables(): tf.Variable[] {
    if (this.weights === undefined) return [];
    const { primary, primaryNoise, secondary, secondaryNoise } = this.weights;
    return [primary, secondary, primaryNoise, secondaryNoise].filter((v): v is tf.Variable => v !== undefined);
  }

  /** Routes `[T, Dg]` through both gates. */
  route(gateInput: tf.Tensor2D, options: RouteOptions): TokenChoiceOutput {
    this.build(gateInput.shape[gateInput.rank - 1]!);
    const w = this.weights!;
    checkGateInput('HierarchicalTopKRouter.route', gateInput, w.primary.shape[0]!);
    const { numGroups: a, expertsPerGroup: b, kGroups, kExperts, noise, noiseEpsilon, importanceWeight, loadWeight } = this.config;
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
        const routed = tf.minimum(tf.sum(oneHotFloat(primaryChosen, a), 1), 1); // [T, a] x ∈ X^(i), a constant
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
   * Not supported, and always throws: the primary gate scores whole groups of exactly `b` experts
   * (`E = a · b`, Eq. 12), so an arbitrary subset of experts is not a hierarchical router; the caller
   * gets an `MoEArgumentError` saying so instead of a silently different routing.
   */
  selectExperts(keep: readonly number[]): Router {
    throw new MoEArgumentError('HierarchicalTopKRouter.selectExperts', 'keep', `a router with a flat gate (the hierarchical gate needs ${this.config.numGroups} groups of exactly ${this.config.expertsPerGroup} experts; pruning single experts would break it)`, `${Array.isArray(keep) ? keep.length : String(keep)} experts to keep`);
  }

  /** The constructor arguments. */
  override getConfig(): tf.serialization.ConfigDict {
    return definedConfig(this.config);
  }

  /** Rebuilds a router from {@link HierarchicalTopKRouter.getConfig}'s output. */
  static override fromConfig<T extends tf.serialization.Serializable>(cls: tf.serialization.SerializableConstructor<T>, config: tf.serialization.ConfigDict): T {
    return new cls(config);
  }

  /** Releases the gate weights. */
  dispose(): void {
    tf.dispose(this.trainableVariables);
    this.weights = undefined;
  }
}
