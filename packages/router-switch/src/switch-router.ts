import * as tf from '@tensorflow/tfjs-core';
import {
  arg,
  checkExpertSelection,
  checkGateInput,
  Component,
  copyExpertSlices,
  createGateKernel,
  excludeExperts,
  gateInitializers,
  loadBalancingConventions,
  loadBalancingLoss,
  MoEArgumentError,
  resolveCapacityConfig,
  routerZLoss,
  selectTopK,
  type ArgsTable,
  type CapacityConfig,
  type Capability,
  type GateInitializer,
  type LoadBalancingConventionName,
  type RouteOptions,
  type Router,
  type TokenChoiceOutput,
} from '@moekit/core';

/**
 * What an overflowing expert keeps: `'position'` — its first tokens in batch order (Switch, GShard);
 * `'random'` — a uniformly random subset (DeepSpeed's Random Token Selection: tokens get a random
 * priority `U(0, 1)` and each expert keeps its `C` highest). `'random'` draws only in training.
 */
export type DropPolicy = 'position' | 'random';

/** Where {@link SwitchRouterArgs.jitter} applies: the router input (multiplied) or the logits (added). */
export type JitterTarget = 'input' | 'logits';

/** Configuration of a {@link SwitchRouter}. */
export interface SwitchRouterArgs {
  /** Experts `E` (≥ 1). */
  numExperts: number;
  /** Gate input width `Dg`; when omitted the weights are built from the first input. */
  inputDim?: number;
  /** Multiplicative input jitter ε: the router input is multiplied by `U(1 − ε, 1 + ε)` in training. Default 1e-2. */
  jitter?: number;
  /**
   * Where the jitter ε goes in training: `'input'` (default) — the router input is multiplied by
   * `U(1 − ε, 1 + ε)` (the paper, Mesh-TF's `multiplicative_jitter`); `'logits'` — `U(1 − ε, 1 + ε)` is
   * added to the logits (SE-MoE's / FastMoE's `SwitchGate`, whose `switch_eps` defaults to 0.1).
   */
  jitterOn?: JitterTarget;
  /**
   * Capacity, adopted by `MixtureOfExperts` field by field. Default `{ train: 1.25, eval: 'auto' }`: the
   * paper's training factor, and evaluation dropless where that costs no extra read (the paper
   * evaluates at 2.0: pass `eval: 2` to match it; drops at evaluation are counted and warned about).
   */
  capacity?: CapacityConfig;
  /** α of the load-balancing loss `α·E·Σ f_i·P_i`. Default 0.01. */
  loadBalancingWeight?: number;
  /**
   * Which library's load-balancing loss `loadBalancing` is (see `loadBalancingConventions` in
   * `@moekit/core`): `'switch'` (Fedus Eq. 4, first choices), `'deepspeed'` (`topkgating`: all K
   * choices, ÷K) or `'mixtral'` (HF: all K choices); with Switch's one choice all three agree. Default `'switch'`.
   */
  loadBalancingConvention?: LoadBalancingConventionName;
  /**
   * Compute `loadBalancing` over this many equal contiguous groups of the routed tokens and average
   * them (HF `switch_transformers` over its batch rows); the token count of every call must be
   * divisible by it. Default 1.
   */
  loadBalancingGroups?: number;
  /** Weight of the ST-MoE router z-loss; 0 turns it off. Default 0 (ST-MoE uses 1e-3). */
  zLossWeight?: number;
  /** Drop policy of overflowing experts. Default `'position'`. */
  dropPolicy?: DropPolicy;
  /** Gate kernel initialiser. Default `'switch'`: truncated normal, std `√(0.1 / Dg)` (§2.4). */
  kernelInitializer?: GateInitializer;
  /** Seed of the initialiser and of every training-time draw (jitter, random drops). */
  seed?: number;
}

/** A {@link SwitchRouter}'s arguments with every default filled in. */
export interface SwitchRouterConfig extends Required<Omit<SwitchRouterArgs, 'inputDim' | 'seed'>>, Pick<SwitchRouterArgs, 'inputDim' | 'seed'> {}

/** The paper's capacity factors: 1.25 in training (§2.2), evaluation dropless where that costs no read. */
const SWITCH_CAPACITY: CapacityConfig = { train: 1.25 };

/**
 * The Switch Transformer router, Fedus et al. 2021 ("Switch Transformers: Scaling to Trillion
 * Parameter Models with Simple and Efficient Sparsity", https://arxiv.org/abs/2101.03961): top-1 of
 * `p(x) = softmax(x · W_r)` (Eq. 1), each token's output scaled by its gate `p_i(x)` (Eq. 2).
 * In training the router input is multiplied by `U(1 − ε, 1 + ε)` (§2.4 / Appendix; Mesh-TF's
 * `multiplicative_jitter`). Aux losses: `loadBalancing` = `E · Σ_i f_i · P_i` (Eqs. 4-6) weighted by
 * α, and optionally ST-MoE's router `zLoss` = `mean_x (logsumexp_j logits_xj)²` (Zoph et al. 2022,
 * Eq. 5). The router computes in float32. Its `capacity` (1.25 / 2.0) is adopted by
 * `MixtureOfExperts`; `dropPolicy: 'random'` hands the MoE a random priority so an overflowing
 * expert keeps a uniformly random subset of its tokens (DeepSpeed's Random Token Selection).
 *
 * @example
 * ```ts
 * import { MixtureOfExperts } from '@moekit/core';
 * import { SwitchRouter } from '@moekit/router-switch';
 *
 * const router = new SwitchRouter({ numExperts: 8, zLossWeight: 1e-3, dropPolicy: 'random', seed: 1 });
 * const moe = new MixtureOfExperts({ router, experts }); // capacity factor 1.25 in training, 2.0 in eval
 * ```
 */
export class SwitchRouter extends Component<SwitchRouterArgs, SwitchRouterConfig> implements Router {
  /** Name under which the class is registered for (de)serialisation. */
  static readonly className = 'SwitchRouter';
  /** The arguments: defaults and checks. */
  static readonly argsTable: ArgsTable<SwitchRouterArgs> = {
    numExperts: arg.integer({ min: 1 }),
    inputDim: arg.integer({ min: 1, optional: true }),
    jitter: arg.value<number>({
      default: 1e-2,
      expected: 'a number in [0, 1)',
      check: (where, name, value) => {
        if (!(value >= 0 && value < 1)) throw new MoEArgumentError(where, name, 'a number in [0, 1)', String(value));
      },
    }),
    jitterOn: arg.oneOf<JitterTarget>(['input', 'logits'], { default: 'input' }),
    capacity: arg.value<CapacityConfig>({ expected: 'a CapacityConfig (merged into the defaults by the constructor)' }),
    loadBalancingWeight: arg.number({ min: 0, default: 0.01 }),
    loadBalancingConvention: arg.oneOf<LoadBalancingConventionName>(Object.keys(loadBalancingConventions) as LoadBalancingConventionName[], { default: 'switch' }),
    loadBalancingGroups: arg.integer({ min: 1, default: 1 }),
    zLossWeight: arg.number({ min: 0, default: 0 }),
    dropPolicy: arg.oneOf<DropPolicy>(['position', 'random'], { default: 'position' }),
    kernelInitializer: arg.oneOf(gateInitializers, { default: 'switch' }),
    seed: arg.number({ optional: true }),
  };
  /** Honours {@link RouteOptions.excludedExperts} (their logits are −∞ before softmax), gives its gate weights, selects experts. */
  static readonly capabilities: readonly Capability[] = ['excludedExperts', 'gateWeights', 'selectExperts'];
  /** Always 1: Switch routes each token to one expert. */
  readonly k = 1;

  /** Validates the arguments; builds now if `inputDim` is given. */
  constructor(args: SwitchRouterArgs) {
    super(withResolvedCapacity(args));
    if (this.config.inputDim !== undefined) this.build(this.config.inputDim);
  }

  /** Experts `E`. */
  get numExperts(): number {
    return this.config.numExperts;
  }

  /** The paper's capacity (1.25 / 'auto' unless given), adopted by `MixtureOfExperts` field by field. */
  get capacity(): CapacityConfig {
    return this.config.capacity;
  }

  /** The gate-input width `Dg` of `W_r` once built (`undefined` before). */
  get inputDim(): number | undefined {
    return this.variableShape('kernel')?.[0];
  }

  /** Creates the router kernel `W_r` `[Dg, E]`; a second call is a no-op. */
  build(inputDim: number): void {
    this.assertLive('SwitchRouter.build');
    if (!this.hasVariable('kernel')) this.addVariable('kernel', createGateKernel(inputDim, this.numExperts, this.config.kernelInitializer, this.seeds.next()));
  }

  /** Jitters (in training), scores `[T, Dg]`, picks the top-1 expert and computes the aux losses. */
  route(gateInput: tf.Tensor2D, options: RouteOptions): TokenChoiceOutput {
    const where = 'SwitchRouter.route';
    this.assertLive(where);
    this.build(gateInput.shape[gateInput.rank - 1]!);
    const kernel = this.variable('kernel', where);
    checkGateInput(where, gateInput, kernel.shape[0]!);
    const { jitter, jitterOn, numExperts, loadBalancingWeight, loadBalancingConvention, loadBalancingGroups, zLossWeight, dropPolicy } = this.config;
    return tf.tidy(() => {
      let input: tf.Tensor2D = tf.cast(gateInput, 'float32');
      if (options.training && jitter > 0 && jitterOn === 'input') {
        input = tf.mul(input, tf.randomUniform(input.shape, 1 - jitter, 1 + jitter, 'float32', this.seeds.next())) as tf.Tensor2D;
      }
      let scores = tf.matMul(input, kernel as tf.Tensor2D) as tf.Tensor2D; // [T, E]
      if (options.training && jitter > 0 && jitterOn === 'logits') {
        scores = tf.add(scores, tf.randomUniform(scores.shape, 1 - jitter, 1 + jitter, 'float32', this.seeds.next())) as tf.Tensor2D; // SE-MoE / FastMoE SwitchGate: score += U(1 − ε, 1 + ε)
      }
      const logits = excludeExperts(scores, options.excludedExperts); // [T, E] (−∞ for excluded experts)
      const probs = tf.softmax(logits) as tf.Tensor2D; // [T, E] p(x), Eq. 1
      const expertIndex = selectTopK(probs, 1); // [T, 1]
      const loadBalancing = loadBalancingLoss(probs, expertIndex, numExperts, { convention: loadBalancingConvention, numGroups: loadBalancingGroups });
      let total = tf.mul(loadBalancingWeight, loadBalancing) as tf.Scalar;
      const auxLosses: TokenChoiceOutput['auxLosses'] = { total, loadBalancing };
      if (zLossWeight > 0) {
        const zLoss = routerZLoss(logits);
        total = tf.add(total, tf.mul(zLossWeight, zLoss)) as tf.Scalar;
        Object.assign(auxLosses, { total, zLoss });
      }
      const priority = options.training && dropPolicy === 'random'
        ? (tf.randomUniform([gateInput.shape[0]], 0, 1, 'float32', this.seeds.next()) as tf.Tensor1D)
        : undefined;
      return { logits, probs, expertIndex, ...(priority ? { priority } : {}), auxLosses };
    });
  }

  /** A copy of the router kernel `W_r` `[Dg, E]`: column `e` is expert `e`'s router weight vector. Throws before the router is built. */
  gateWeights(): tf.Tensor2D {
    return tf.clone(this.variable('kernel', 'SwitchRouter.gateWeights')) as tf.Tensor2D;
  }

  /**
   * A new router over the experts `keep` (expert `keep[i]` becomes expert `i`): the kept columns of
   * `W_r` copied, every other option unchanged; this router is left untouched. Its softmax runs over the
   * kept experts only. Throws before the router is built.
   */
  selectExperts(keep: readonly number[]): SwitchRouter {
    const where = 'SwitchRouter.selectExperts';
    const kernel = this.variable('kernel', where);
    checkExpertSelection(where, keep, this.numExperts);
    const router = new SwitchRouter({ ...this.config, numExperts: keep.length, inputDim: kernel.shape[0]! });
    copyExpertSlices(router.variable('kernel', where), kernel, keep, 1);
    return router;
  }
}

/**
 * `args` with its capacity merged into the Switch defaults, so `config.capacity` (and the saved
 * config) holds every field, as `MixtureOfExperts` adopts it. The args table checks; it cannot merge.
 */
function withResolvedCapacity(args: SwitchRouterArgs): SwitchRouterArgs {
  if (typeof args !== 'object' || args === null) return args;
  return { ...args, capacity: resolveCapacityConfig('SwitchRouter', args.capacity, SWITCH_CAPACITY) };
}

/** Creates a {@link SwitchRouter}, mirroring `tf.layers.dense(args)`. */
export function switchRouter(args: SwitchRouterArgs): SwitchRouter {
  return new SwitchRouter(args);
}
