import * as tf from '@tensorflow/tfjs-core';
import type { AuxLosses } from './contracts/aux-losses.js';
import { checkSlotOrder, type SecondChoiceOffset, type SlotOrder } from './routing/assign-slots.js';
import { planBufferRows, type BufferLayout } from './dispatch/buffer-rows.js';
import { AUTO_EVAL_CAPACITY_FACTOR, resolveCapacityConfig, type CapacityConfig, type ResolvedCapacityConfig } from './routing/capacity-config.js';
import { countInvalidExperts, readExpertIndex } from './routing/check-expert-index.js';
import { weightedSumCombiner } from './dispatch/combine.js';
import type { Combiner } from './contracts/combiner.js';
import { dispatch } from './dispatch/dispatch.js';
import { MoEArgumentError, MoEDisposedError } from './util/errors.js';
import { Component, type NamedVariable } from './components/component.js';
import type { ExpertBank } from './contracts/expert-bank.js';
import { countChoices, planRouting, type PlanRoutingOptions, type Renormalize } from './routing/plan-routing.js';
import { isPlannedOutput, type Router, type RouterOutput, type TokenChoiceOutput } from './contracts/router.js';
import type { SharedBranch } from './contracts/shared-branch.js';
import { disposeRoutingPlan, isSparsePlan, planNumTokens, type RoutingPlan, type SparseRoutingPlan } from './contracts/routing-plan.js';
import { keptChoicesPerToken } from './routing/kept-choices-per-token.js';
import { RoutingHealth } from './metrics/routing-health.js';
import { RoutingMetrics, routingMetrics, type RoutingMetricsValues } from './metrics/routing-metrics.js';
import { ExpertOutputMasking, type ExpertOutputMaskingArgs, type ExpertOutputMaskingConfig } from './regularization/expert-output-masking.js';
import { FinalOutputMasking, type FinalOutputMaskingArgs, type FinalOutputMaskingConfig } from './regularization/final-output-masking.js';
import { checkAllFinite, checkDtype, checkMinRank, checkOneOf, checkShape, describe, rejectUnknownOptions } from './util/validate.js';

/**
 * When inputs and gate logits are checked for NaN/Inf: `true` — eagerly, before routing (a host read
 * per check); `'auto'` — folded into the one host read a step already makes (dropless capacity,
 * grouped layout), and skipped on a step that makes none (the padded layout at a fixed capacity
 * factor, which must not stall a GPU backend); `false` — never.
 */
export type FiniteCheck = boolean | 'auto';

/**
 * What a token none of whose choices was kept passes on (dropped by every expert it asked for, or
 * chosen by no expert): `'zero'` — nothing, as Switch, GShard and DeepSpeed, whose blocks carry such a
 * token by the residual around the MoE; `'residual'` — the token itself, for an MoE with no residual
 * around it (the experts' output feature shape must equal the input's).
 */
export type DroppedTokens = 'zero' | 'residual';

/** Configuration of a {@link MixtureOfExperts}. */
export interface MixtureOfExpertsArgs {
  /** Scores and chooses experts (token choice), or plans the whole routing (expert choice, Soft MoE, …). */
  router: Router;
  /** The experts, applied to `[E, C, ...in]` buffers. Must have the router's `numExperts`. */
  experts: ExpertBank;
  /** Brings expert outputs back to token order. Default {@link weightedSumCombiner}. */
  combiner?: Combiner;
  /** A dense branch every token also goes through, its output added to the experts' (see {@link SharedBranch}). */
  shared?: SharedBranch;
  /**
   * Token-choice capacity: train/eval factors and a library's rounding rules, in one object (see
   * {@link CapacityConfig}). Each field defaults to the router's `capacity`, then to train 1.25 / eval `'auto'`
   * (dropless where the load is read on the host anyway, else 2.0).
   * Routers that plan themselves (expert choice, Soft MoE, balanced assignment) size their own buffers.
   */
  capacity?: CapacityConfig;
  /** Combine-weight normalisation over a token's choices. Default `'none'`. */
  renormalize?: Renormalize;
  /** Where later choices start in an expert's buffer (choice-major order only). Default `'kept'`. */
  secondChoiceOffset?: SecondChoiceOffset;
  /**
   * The order in which (token, choice) pairs take slots (see {@link SlotOrder}): `'tokenMajor'` is
   * DeepSpeed `topkgating`'s `drop_policy='position'`. Default `'choiceMajor'` (GShard, Tutel).
   */
  slotOrder?: SlotOrder;
  /** When to reject NaN/Inf in the input, the gate logits and out-of-range choices (see {@link FiniteCheck}). Default `'auto'`. */
  checkFinite?: FiniteCheck;
  /**
   * How expert inputs are laid out (see {@link BufferLayout}). `'auto'` (default) picks `'grouped'` when
   * the bank offers `applyGrouped` and the backend computes on the host (`cpu`, `wasm`), where the
   * group sizes cost nothing to read and no padding is multiplied; `'padded'` otherwise (GPU backends,
   * where reading group sizes would stall the device).
   */
  layout?: BufferLayout | 'auto';
  /** What a token none of whose choices was kept passes on (see {@link DroppedTokens}). Default `'zero'`. */
  droppedTokens?: DroppedTokens;
  /**
   * At evaluation, warn once (`console.warn`) when a call drops more than this fraction of the
   * (token, expert) pairs for lack of capacity — drops change predictions silently. Checked only where
   * evaluation can drop (a positive evaluation capacity factor), from the call's metrics: read at once
   * on a host backend, without blocking (`metrics.read()`) on a GPU one. In [0, 1]; 1 never warns.
   * Default 0.01.
   */
  dropWarning?: number;
  /** Names the MoE in warnings and errors (an `MoELayer` passes its layer name). Default `'MixtureOfExperts'`. */
  name?: string;
  /** Expert Output Masking in training: drop a random fraction of (token, expert) outputs (see `ExpertOutputMasking`). Default off; `{}` gives NLLB's rate 0.2. */
  expertOutputMasking?: ExpertOutputMaskingArgs;
  /** Final Output Masking in training: zero the MoE output of a random fraction of tokens (see `FinalOutputMasking`). Default off; `{}` gives rate 0.1. */
  finalOutputMasking?: FinalOutputMaskingArgs;
}

/** A {@link MixtureOfExperts}' validated configuration, defaults filled in. */
export interface MixtureOfExpertsConfig {
  /** Token-choice capacity, merged with the router's and the defaults. */
  capacity: ResolvedCapacityConfig;
  /** Combine-weight normalisation. */
  renormalize: Renormalize;
  /** Where later choices start in an expert's buffer. */
  secondChoiceOffset: SecondChoiceOffset;
  /** The order in which (token, choice) pairs take slots. */
  slotOrder: SlotOrder;
  /** When inputs are checked for NaN/Inf. */
  checkFinite: FiniteCheck;
  /** The buffer layout, or `'auto'`. */
  layout: BufferLayout | 'auto';
  /** What a token none of whose choices was kept passes on. */
  droppedTokens: DroppedTokens;
  /** The dropped fraction above which evaluation warns once. */
  dropWarning: number;
  /** The MoE's name in messages. */
  name: string;
  /** Expert Output Masking, if on. */
  expertOutputMasking?: ExpertOutputMaskingConfig;
  /** Final Output Masking, if on. */
  finalOutputMasking?: FinalOutputMaskingConfig;
}

/** Options of {@link MixtureOfExperts.apply}. */
export interface MoEApplyOptions {
  /** Training mode: router noise and `capacityFactorTrain`. */
  training: boolean;
  /**
   * What the router scores, when it differs from `x` (an external gate, a pooled per-sample summary).
   * Its leading dims are the tokens: `[B, Dg]` with `x` `[B, S, D]` routes per sample, each expert
   * receiving whole `[S, D]` samples; `[B, S, Dg]` routes per position. Default: `x` itself, routed
   * per position over all but its last axis.
   */
  gateInput?: tf.Tensor;
}

// the keys of MoEApplyOptions: anything else (`train`, `isTraining`) is a typo, rejected by name
const APPLY_OPTIONS: readonly (keyof MoEApplyOptions)[] = ['training', 'gateInput'];

/** What {@link MixtureOfExperts.apply} returns. */
export interface MoEOutput {
  /** The combined expert outputs, shaped as `x` with its feature part replaced by the experts'. */
  output: tf.Tensor;
  /** The router's (and experts') aux losses: `total` weighted, parts unweighted. */
  auxLosses: AuxLosses;
  /** Load, drops, importance, entropy of this call. */
  metrics: RoutingMetrics;
}

const KNOWN_ARGS = ['router', 'experts', 'combiner', 'shared', 'capacity', 'renormalize', 'secondChoiceOffset', 'slotOrder', 'checkFinite', 'layout', 'droppedTokens', 'dropWarning', 'name', 'expertOutputMasking', 'finalOutputMasking'];
const FLAT_CAPACITY_ARGS = ['capacityFactorTrain', 'capacityFactorEval', 'capacityPreset', 'capacityRounding', 'capacityMultiplyByK', 'capacityMultipleOf', 'minCapacity'];

/**
 * A sparse Mixture-of-Experts layer as a plain function of tensors (the functional API; the tfjs-layers
 * adapter wraps it): route, plan on the device, dispatch, apply the expert bank, combine.
 * `y = Σ_k G(x)_k · E_{i_k}(x)` (Shazeer et al. 2017, Eq. 1) over the kept pairs.
 *
 * Host reads per call: none with the padded layout at a fixed capacity factor; one small read when
 * the shape needs a number (a dropless capacity factor ≤ 0, the grouped layout's group sizes), into
 * which the `'auto'` finite checks are folded. Metrics are read lazily ({@link RoutingMetrics}).
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { MixtureOfExperts } from '@moekit/core';
 *
 * const moe = new MixtureOfExperts({ router, experts, capacity: { train: 1.25, eval: 2 } });
 * const { output, auxLosses, metrics } = moe.apply(x, { training: true }); // x [T, D]
 * const loss = tf.add(taskLoss(output), auxLosses.total);
 * ```
 */
export class MixtureOfExperts {
  /** The router. */
  readonly router: Router;
  /** The expert bank. */
  readonly experts: ExpertBank;
  /** The combiner. */
  readonly combiner: Combiner;
  /** The shared dense branch, if any. */
  readonly shared: SharedBranch | undefined;
  /** Metrics of the latest {@link MixtureOfExperts.apply} call (`undefined` before the first). */
  lastMetrics: RoutingMetrics | undefined;
  /** The validated configuration, defaults filled in. */
  readonly config: Readonly<MixtureOfExpertsConfig>;
  /** Routing health accumulated over calls, per mode, while `health.tracking` is set (see {@link RoutingHealth}). */
  readonly health: RoutingHealth;
  private readonly eom: ExpertOutputMasking | undefined;
  private readonly fom: FinalOutputMasking | undefined;
  private dropWarned = false;
  private disposed = false;

  /** Validates `args` (unknown options are rejected by name) and fills in the defaults. */
  constructor(args: MixtureOfExpertsArgs) {
    const where = 'MixtureOfExperts';
    for (const key of Object.keys(args ?? {})) {
      if (FLAT_CAPACITY_ARGS.includes(key)) {
        throw new MoEArgumentError(where, key, "the capacity object instead (capacity: { train, eval, preset, rounding, multiplyByK, multipleOf, min })", `the flat option '${key}' of moekit 0.1`);
      }
    }
    rejectUnknownOptions(where, args, KNOWN_ARGS);
    if (args.router === undefined || args.experts === undefined) {
      throw new MoEArgumentError(where, args.router === undefined ? 'router' : 'experts', 'a value', 'undefined');
    }
    if (args.router.numExperts !== args.experts.numExperts) {
      throw new MoEArgumentError(where, 'experts.numExperts', `${args.router.numExperts} (router.numExperts)`, String(args.experts.numExperts));
    }
    this.router = args.router;
    this.experts = args.experts;
    this.combiner = args.combiner ?? weightedSumCombiner;
    this.shared = args.shared;
    this.eom = args.expertOutputMasking === undefined ? undefined : new ExpertOutputMasking(args.expertOutputMasking, `${where} expertOutputMasking`);
    this.fom = args.finalOutputMasking === undefined ? undefined : new FinalOutputMasking(args.finalOutputMasking, `${where} finalOutputMasking`);
    this.config = {
      capacity: resolveCapacityConfig(where, args.capacity, args.router.capacity),
      renormalize: args.renormalize ?? 'none',
      ...checkSlotOrder(where, args),
      checkFinite: args.checkFinite ?? 'auto',
      layout: args.layout ?? 'auto',
      droppedTokens: args.droppedTokens ?? 'zero',
      dropWarning: args.dropWarning ?? 0.01,
      name: args.name ?? 'MixtureOfExperts',
      ...(this.eom !== undefined ? { expertOutputMasking: this.eom.config } : {}),
      ...(this.fom !== undefined ? { finalOutputMasking: this.fom.config } : {}),
    };

    checkOneOf(where, 'droppedTokens', this.config.droppedTokens, ['zero', 'residual']);
    if (!(typeof this.config.dropWarning === 'number' && this.config.dropWarning >= 0 && this.config.dropWarning <= 1)) {
      throw new MoEArgumentError(where, 'dropWarning', 'a fraction in [0, 1]', describe(this.config.dropWarning));
    }
    this.health = new RoutingHealth(this.numExperts);
    checkOneOf(where, 'renormalize', this.config.renormalize, ['none', 'beforeDrop', 'afterDrop']);
    if (![true, false, 'auto'].includes(this.config.checkFinite)) {
      throw new MoEArgumentError(where, 'checkFinite', "true | false | 'auto'", describe(this.config.checkFinite));
    }
    checkOneOf(where, 'layout', this.config.layout, ['auto', 'padded', 'grouped']);
    if (this.config.layout === 'grouped' && this.experts.applyGrouped === undefined) {
      throw new MoEArgumentError(where, 'layout', `'padded' or 'auto' (the expert bank has no applyGrouped)`, `'grouped'`);
    }
  }

  /** The layout this call will use: the configured one, or what `'auto'` picks on the current backend. */
  resolveLayout(): BufferLayout {
    if (this.config.layout !== 'auto') return this.config.layout;
    const hostBackend = ['cpu', 'wasm'].includes(tf.getBackend());
    return hostBackend && this.experts.applyGrouped !== undefined ? 'grouped' : 'padded';
  }

  /**
   * The capacity factor of a call: the training factor, or the evaluation one with `'auto'` resolved —
   * dropless (0) where the load is read on the host anyway (`cpu`, `wasm`, the grouped layout),
   * {@link AUTO_EVAL_CAPACITY_FACTOR} on a GPU backend's padded layout.
   */
  capacityFactor(training: boolean, layout: BufferLayout = this.resolveLayout()): number {
    const { train, eval: evaluation } = this.config.capacity;
    if (training) return train;
    if (evaluation !== 'auto') return evaluation;
    return layout === 'grouped' || ['cpu', 'wasm'].includes(tf.getBackend()) ? 0 : AUTO_EVAL_CAPACITY_FACTOR;
  }

  /** Number of experts `E`. */
  get numExperts(): number {
    return this.router.numExperts;
  }

  /** The router's, the experts' and the shared branch's trainable variables. */
  get trainableVariables(): tf.Variable[] {
    return [...this.router.trainableVariables, ...this.experts.trainableVariables, ...(this.shared?.trainableVariables ?? [])];
  }

  /**
   * Every variable of the router, the experts and the shared branch with its path —
   * `router/kernel`, `router/gate/kernel`, `experts/w1`, `shared/w1` — trainable and not (an
   * aux-loss-free bias): what `MoELayer` (`@moekit/layers`) saves under these names. A component that is not a
   * {@link Component} gives its trainable variables as `router/0`, `router/1`, ….
   */
  namedVariables(): NamedVariable[] {
    const named: NamedVariable[] = [];
    for (const [name, component] of [['router', this.router], ['experts', this.experts], ['shared', this.shared]] as const) {
      if (component === undefined) continue;
      if (component instanceof Component) named.push(...component.namedVariables().map(([path, v]) => [`${name}/${path}`, v] as const));
      else component.trainableVariables.forEach((v, i) => named.push([`${name}/${i}`, v]));
    }
    return named;
  }

  /**
   * Creates the weights of lazily built components for per-token inputs of shape `featureShape`
   * (`[D]`) and gate inputs of width `gateWidth` (default: the last of `featureShape`); a no-op for
   * components already built. {@link apply} calls it. A router or expert bank already built for
   * another width (one that reports {@link Router.inputDim} / {@link ExpertBank.inputFeatureShape}) is
   * an error naming `where` (default `MixtureOfExperts.build`), the input's shape and the built one.
   */
  build(featureShape: number[], gateWidth = featureShape[featureShape.length - 1]!, where = 'MixtureOfExperts.build'): void {
    this.checkNotDisposed(where);
    this.router.build?.(gateWidth);
    this.experts.build?.(featureShape);
    this.shared?.build?.(featureShape);
    const routerWidth = this.router.inputDim;
    if (routerWidth !== undefined && routerWidth !== gateWidth) {
      throw new MoEArgumentError(where, 'router', `a router for gate inputs of width ${gateWidth} (the input's)`, `${componentName(this.router)} built for width ${routerWidth}`);
    }
    const bankShape = this.experts.inputFeatureShape;
    // a bank built for fewer axes acts on the trailing ones (an FFN built for [D] takes [S, D] samples position by position)
    const trailing = featureShape.slice(featureShape.length - (bankShape?.length ?? 0));
    if (bankShape !== undefined && (bankShape.length > featureShape.length || bankShape.some((d, i) => d !== trailing[i]))) {
      throw new MoEArgumentError(where, 'experts', `an expert bank for per-token inputs ${describe(featureShape)} (the input's)`, `${componentName(this.experts)} built for ${describe([...bankShape])}`);
    }
  }

  /**
   * Routes `x` (rank ≥ 2, tokens first), runs the experts and combines their outputs.
   * The caller owns the returned tensors (`output` and every aux loss); the metrics are released
   * at the next call unless read (see {@link RoutingMetrics}). An empty batch (`T = 0`) gives an empty
   * output, an aux loss `total` of 0 and empty metrics (capacity 0, zero load), as tfjs layers do;
   * a call after {@link dispose} is a {@link MoEDisposedError}.
   */
  apply(x: tf.Tensor, options: MoEApplyOptions): MoEOutput {
    const where = 'MixtureOfExperts.apply';
    this.checkNotDisposed(where);
    if (typeof options !== 'object' || options === null) throw new MoEArgumentError(where, 'options', '{ training, gateInput? }', describe(options));
    rejectUnknownOptions(where, options, APPLY_OPTIONS);
    if (typeof options.training !== 'boolean') throw new MoEArgumentError(where, 'options.training', 'true or false', describe(options.training));
    checkMinRank(where, 'x', x, 2);
    const gateInput = options.gateInput ?? x;
    checkMinRank(where, 'gateInput', gateInput, 2);
    const tokenShape = gateInput.shape.slice(0, -1);
    if (gateInput.rank > x.rank || tokenShape.some((d, i) => d !== x.shape[i])) {
      throw new MoEArgumentError(where, 'gateInput', `leading dims equal to x's ${describe(x.shape.slice(0, tokenShape.length))} (same tokens T)`, `shape ${describe(gateInput.shape)}`);
    }
    const featureShape = x.shape.slice(tokenShape.length);
    if (featureShape.length === 0) {
      throw new MoEArgumentError(where, 'x', `rank > ${tokenShape.length} (a feature axis after the token axes of gateInput)`, `shape ${describe(x.shape)}`);
    }
    const eager = this.config.checkFinite === true;
    if (eager) {
      checkAllFinite(where, 'x', x);
      if (gateInput !== x) checkAllFinite(where, 'gateInput', gateInput);
    }
    const numTokens = tokenShape.reduce((a, b) => a * b, 1);
    this.build(featureShape, gateInput.shape[gateInput.rank - 1]!);
    this.lastMetrics?.dispose(); // the previous call's metrics, if nobody read them
    if (numTokens === 0) return this.applyEmpty(tokenShape, featureShape, options.training);

    let metrics: RoutingMetrics | undefined;
    let plannedHere = false; // token choice, placed by the core's capacity (the only kind evaluation capacity can drop)
    const result = tf.tidy(() => {
      const tokens = tf.reshape(x, [numTokens, ...featureShape]); // [T, ...F]
      const gate2d = tf.reshape(gateInput, [numTokens, gateInput.shape[gateInput.rank - 1]!]) as tf.Tensor2D; // [T, Dg]
      const routing = this.router.route(gate2d, { training: options.training });
      this.checkRouterOutput(routing, numTokens);
      const layout = this.resolveLayout();
      const plan = isPlannedOutput(routing)
        ? this.checkedPlan(routing.plan, numTokens, layout, x, gateInput, routing.logits)
        : this.planTokenChoice(routing, options.training, layout, x, gateInput);
      plannedHere = !isPlannedOutput(routing);
      const expertOptions = { training: options.training };
      // EOM (NLLB §6.2.2): drops (token, expert) outputs by masking their combine weights; metrics below see the unmasked plan's load
      const combinePlan = this.eom === undefined ? plan : this.eom.maskPlan(plan, options.training);
      let routed: tf.Tensor;
      if (isSparsePlan(plan)) {
        const rows = planBufferRows(plan, layout); // computed once, shared by dispatch and combine
        const expertOutput = layout === 'grouped'
          ? this.experts.applyGrouped!(dispatch(tokens, plan, 'grouped', rows), plan.groupSizes!, expertOptions) // [N, ...F']
          : this.experts.apply(dispatch(tokens, plan, 'padded', rows), expertOptions); // [E, C, ...F']
        routed = this.combiner.combine(expertOutput, combinePlan, layout, rows); // [T, ...F']
        if (this.config.droppedTokens === 'residual') routed = this.passDroppedTokens(tokens, routed, plan, numTokens);
      } else {
        const groupSizes = new Array<number>(plan.numExperts).fill(plan.capacity); // Soft MoE fills every slot
        const expertOutput = layout === 'grouped'
          ? this.experts.applyGrouped!(dispatch(tokens, plan, 'grouped'), groupSizes, expertOptions)
          : this.experts.apply(dispatch(tokens, plan), expertOptions);
        routed = this.combiner.combine(expertOutput, combinePlan, layout);
      }
      let auxLosses = routing.auxLosses;
      let combined: tf.Tensor; // [T, ...F']
      if (this.shared === undefined) combined = routed;
      else if (this.shared.mix !== undefined) {
        // a conditional branch (CMR) mixes the routed output with its own instead of adding it; its aux losses join the router's
        const mixed = this.shared.mix(tokens, routed, expertOptions);
        combined = mixed.output;
        auxLosses = mergeAuxLosses(auxLosses, mixed.auxLosses);
      } else combined = tf.add(routed, this.shared.apply(tokens, expertOptions)); // + shared branch
      if (this.fom !== undefined) combined = this.fom.mask(combined, options.training); // FOM (Elbayad et al. 2023 §3.1): per-token mask of the layer output
      metrics = routingMetrics(plan, routing.probs);
      this.health.record(options.training ? 'train' : 'eval', metrics, numTokens);
      disposeRoutingPlan(plan);
      const output = tf.reshape(combined, [...tokenShape, ...combined.shape.slice(1)]);
      return { output, auxLosses };
    });
    this.lastMetrics = metrics;
    if (!options.training && plannedHere) this.warnOnDrops(metrics!);
    return { output: result.output, auxLosses: result.auxLosses, metrics: metrics! };
  }

  /**
   * An empty batch: nothing to route, so no router or plan is run (a capacity needs T ≥ 1). The output
   * `[...tokens, ...F']` takes its feature shape from the bank (`outputFeatureShape`, else the bank
   * applied to an empty `[E, 0, ...F]` buffer); aux loss 0; metrics all zero with capacity 0.
   */
  private applyEmpty(tokenShape: number[], featureShape: number[], training: boolean): MoEOutput {
    const E = this.numExperts;
    const outputFeatures = this.experts.outputFeatureShape?.(featureShape) ?? tf.tidy(() => this.experts.apply(tf.zeros([E, 0, ...featureShape]), { training }).shape.slice(2));
    const metrics = new RoutingMetrics(tf.keep(tf.zeros([3 * E + 4])), 0, E); // load, needed, importance, dropped, entropy, experts per token, tokens without expert; owned by the metrics, even inside a caller's tidy
    this.lastMetrics = metrics;
    return { output: tf.zeros([...tokenShape, ...outputFeatures]), auxLosses: { total: tf.scalar(0) }, metrics };
  }

  /** `routed + x` for the tokens no expert kept (`droppedTokens: 'residual'`). */
  private passDroppedTokens(tokens: tf.Tensor, routed: tf.Tensor, plan: SparseRoutingPlan, numTokens: number): tf.Tensor {
    if (routed.shape.slice(1).join() !== tokens.shape.slice(1).join()) {
      throw new MoEArgumentError(`${this.config.name}.apply`, 'droppedTokens', `'zero' (the experts' output features ${describe(routed.shape.slice(1))} differ from the input's, so a dropped token cannot pass through)`, "'residual'");
    }
    const withoutExpert = tf.cast(tf.equal(keptChoicesPerToken(plan, numTokens), 0), tokens.dtype); // [T] 1 where no expert kept the token
    return tf.add(routed, tf.mul(tokens, tf.reshape(withoutExpert, [numTokens, ...tokens.shape.slice(1).map(() => 1)])));
  }

  /**
   * At evaluation, where capacity can drop, checks the call's dropped fraction and warns once if it is
   * above `dropWarning`: read synchronously on a host backend (`cpu`, `wasm`: the values are on the
   * host already), without blocking on a GPU backend (`metrics.read()`).
   */
  private warnOnDrops(metrics: RoutingMetrics): void {
    const threshold = this.config.dropWarning;
    if (this.dropWarned || threshold >= 1 || this.capacityFactor(false) <= 0) return;
    const check = (values: RoutingMetricsValues) => {
      if (this.dropWarned || values.droppedFraction <= threshold) return;
      this.dropWarned = true;
      console.warn(
        `moekit: ${this.config.name} dropped ${(100 * values.droppedFraction).toFixed(1)} % of its (token, expert) pairs in an evaluation call ` +
          `(capacity ${values.capacity} slots per expert, load ${values.load.join(' ')}, asked ${values.needed.join(' ')}); ` +
          `dropped tokens pass on ${this.config.droppedTokens === 'residual' ? 'themselves' : 'zeros'}. Evaluate dropless with capacity: { eval: 0 }, ` +
          `or raise capacity.eval${this.config.droppedTokens === 'zero' ? ", or pass droppedTokens: 'residual' if the MoE has no residual around it" : ''}. (Warned once per MoE.)`,
      );
    };
    if (['cpu', 'wasm'].includes(tf.getBackend())) check(metrics.toJSON());
    else void metrics.read().then(check, () => undefined);
  }

  /**
   * The {@link planRouting} options this MoE places token choices with at `capacityFactor` (a call's
   * is `capacityFactor(training)`): the capacity rules, renormalisation, second-choice offset, slot order and
   * eager validation. One place for them, so that code re-running the plan (the ONNX exporter of
   * `@moekit/onnx`) places exactly as `apply` does.
   */
  planRoutingOptions(capacityFactor: number): PlanRoutingOptions {
    const { capacity, checkFinite } = this.config;
    return {
      capacityFactor,
      preset: capacity.preset,
      rounding: capacity.rounding,
      multiplyByK: capacity.multiplyByK,
      multipleOf: capacity.multipleOf,
      minCapacity: capacity.min,
      renormalize: this.config.renormalize,
      secondChoiceOffset: this.config.secondChoiceOffset,
      slotOrder: this.config.slotOrder,
      validate: checkFinite === true,
    };
  }

  /** Places token choices on the device; at most one host read (dropless capacity or grouped sizes, with the folded checks). */
  private planTokenChoice(routing: TokenChoiceOutput, training: boolean, layout: BufferLayout, x: tf.Tensor, gateInput: tf.Tensor): SparseRoutingPlan {
    const { checkFinite } = this.config;
    const factor = this.capacityFactor(training, layout);
    const E = this.numExperts;
    const options = this.planRoutingOptions(factor);
    const folded = checkFinite === 'auto';
    const invalid = folded ? [countInvalidExperts(routing.expertIndex, E)] : [];
    if (factor <= 0) {
      // dropless: the demand is the one number the shape needs; every expert keeps min(needed, C)
      const numbers = this.readOnce(countChoices(routing.expertIndex, E), folded, x, gateInput, routing.logits, invalid, routing);
      const needed = numbers.slice(0, E);
      const plan = planRouting(routing, E, { ...options, neededCapacity: Math.max(0, ...needed) });
      plan.groupSizes = needed.map((n) => Math.min(n, plan.capacity));
      return plan;
    }
    const plan = planRouting(routing, E, options);
    if (layout === 'grouped') plan.groupSizes = this.readOnce(plan.load, folded, x, gateInput, routing.logits, invalid, routing).slice(0, E);
    else invalid.forEach((t) => t.dispose());
    return plan;
  }

  /** A router's own plan, checked; grouped layouts read the load once (with the folded checks). */
  private checkedPlan(plan: RoutingPlan, numTokens: number, layout: BufferLayout, x: tf.Tensor, gateInput: tf.Tensor, logits: tf.Tensor2D): RoutingPlan {
    const where = 'MixtureOfExperts.apply (router plan)';
    if (plan.numExperts !== this.numExperts) throw new MoEArgumentError(where, 'plan.numExperts', String(this.numExperts), String(plan.numExperts));
    if (planNumTokens(plan) !== numTokens) throw new MoEArgumentError(where, 'plan', `a plan of ${numTokens} tokens`, `${planNumTokens(plan)} tokens`);
    if (isSparsePlan(plan) && layout === 'grouped' && plan.groupSizes === undefined) {
      plan.groupSizes = this.readOnce(plan.load, this.config.checkFinite === 'auto', x, gateInput, logits, [], undefined).slice(0, this.numExperts);
    }
    return plan;
  }

  /**
   * The step's one host read: `counts` (an `[E]` tensor the shape needs), with the folded checks'
   * flags appended when `folded` — all finite in x, gateInput and logits, no out-of-range choice.
   * On a failed flag the offending tensor is checked again for the detailed error.
   */
  private readOnce(counts: tf.Tensor, folded: boolean, x: tf.Tensor, gateInput: tf.Tensor, logits: tf.Tensor2D, invalid: tf.Scalar[], routing: TokenChoiceOutput | undefined): number[] {
    const checked: Array<[string, tf.Tensor]> = folded ? [['x', x], ...(gateInput !== x ? [['gateInput', gateInput] as [string, tf.Tensor]] : []), ['logits', logits]] : [];
    const packed = tf.tidy(() => {
      const flags = checked.map(([, t]) => tf.cast(t.dtype === 'float32' ? tf.all(tf.isFinite(t)) : tf.scalar(true, 'bool'), 'float32'));
      const bad = invalid.map((n) => tf.cast(n, 'float32'));
      return tf.concat([tf.cast(tf.reshape(counts, [-1]), 'float32'), ...[...flags, ...bad].map((f) => tf.reshape(f, [1]))]);
    });
    const numbers = Array.from(packed.dataSync());
    packed.dispose();
    invalid.forEach((t) => t.dispose());
    const flagsAt = counts.size;
    checked.forEach(([name, t], i) => {
      if (numbers[flagsAt + i] !== 1) checkAllFinite(name === 'logits' ? 'MixtureOfExperts.apply (router output)' : 'MixtureOfExperts.apply', name, t);
    });
    if (routing !== undefined && folded && numbers[flagsAt + checked.length]! > 0) readExpertIndex('MixtureOfExperts.apply (router output)', routing.expertIndex, this.numExperts);
    return numbers.slice(0, flagsAt).map(Math.round);
  }

  private checkRouterOutput(routing: RouterOutput, numTokens: number): void {
    const where = 'MixtureOfExperts.apply (router output)';
    const E = this.numExperts;
    if (!isPlannedOutput(routing)) {
      checkShape(where, 'logits', routing.logits, [numTokens, E]);
      checkShape(where, 'expertIndex', routing.expertIndex, [numTokens, this.router.k]);
      checkDtype(where, 'expertIndex', routing.expertIndex, 'int32');
    } else if (routing.logits.rank !== 2 || routing.logits.shape[0] !== numTokens) {
      throw new MoEArgumentError(where, 'logits', `shape [${numTokens}, N]`, `shape ${describe(routing.logits.shape)}`);
    }
    checkShape(where, 'probs', routing.probs, [numTokens, E]);
    if (routing.auxLosses?.total === undefined) {
      throw new MoEArgumentError(where, 'auxLosses.total', 'a scalar tensor', describe(routing.auxLosses?.total));
    }
    if (this.config.checkFinite === true) checkAllFinite(where, 'logits', routing.logits);
  }

  /** Throws a {@link MoEDisposedError} naming `where` once {@link dispose} has run. */
  private checkNotDisposed(where: string): void {
    if (this.disposed) throw new MoEDisposedError(where, 'MixtureOfExperts');
  }

  /** True once {@link dispose} has run: every later call is a {@link MoEDisposedError}. */
  get isDisposed(): boolean {
    return this.disposed;
  }

  /**
   * Releases the router's, the experts' and the shared branch's variables, unread metrics and the
   * health accumulators; idempotent. The MoE cannot be used afterwards ({@link MoEDisposedError}).
   * `keepExperts: true` leaves the expert bank alive, for a bank that other MoEs still use (experts
   * shared across layers, Bai et al. 2022, https://arxiv.org/abs/2209.08326): its last user releases it.
   */
  dispose(options: { keepExperts?: boolean } = {}): void {
    if (this.disposed) return;
    this.disposed = true;
    this.lastMetrics?.dispose();
    this.health.dispose();
    this.router.dispose();
    if (options.keepExperts !== true) this.experts.dispose();
    this.shared?.dispose();
  }
}

/** `base` with `extra`'s parts added: each part kept by name, `total` the sum of both totals. */
function mergeAuxLosses(base: AuxLosses, extra: AuxLosses | undefined): AuxLosses {
  if (extra === undefined) return base;
  return { ...base, ...extra, total: tf.add(base.total, extra.total) as tf.Scalar };
}

/** A component's class name for messages (`TopKRouter`), or `'a component'`. */
function componentName(component: object): string {
  const name = (component.constructor as { className?: string; name?: string }).className ?? component.constructor.name;
  return name && name !== 'Object' ? name : 'a component';
}
