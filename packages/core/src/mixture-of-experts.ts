import * as tf from '@tensorflow/tfjs-core';
import type { AuxLosses } from './aux-losses.js';
import type { SecondChoiceOffset } from './assign-slots.js';
import type { BufferLayout } from './buffer-rows.js';
import type { CapacityRounding } from './capacity.js';
import type { CapacityPresetName } from './capacity-presets.js';
import { weightedSumCombiner } from './combine.js';
import type { Combiner } from './combiner.js';
import { dispatch } from './dispatch.js';
import { MoEArgumentError } from './errors.js';
import type { ExpertBank } from './expert-bank.js';
import { planRouting, type Renormalize } from './plan-routing.js';
import type { Router, RouterOutput } from './router.js';
import type { SharedBranch } from './shared-branch.js';
import { disposeRoutingPlan } from './routing-plan.js';
import { routingMetrics, type RoutingMetrics } from './routing-metrics.js';
import { checkAllFinite, checkDtype, checkFiniteNumber, checkMinRank, checkOneOf, checkShape, describe, rejectUnknownOptions } from './validate.js';

/** Configuration of a {@link MixtureOfExperts}. */
export interface MixtureOfExpertsArgs {
  /** Scores and chooses experts. */
  router: Router;
  /** The experts, applied to `[E, C, ...in]` buffers. Must have the router's `numExperts`. */
  experts: ExpertBank;
  /** Brings expert outputs back to token order. Default {@link weightedSumCombiner}. */
  combiner?: Combiner;
  /** A dense branch every token also goes through, its output added to the experts' (see {@link SharedBranch}). */
  shared?: SharedBranch;
  /** Capacity factor while training (0 = dropless, < 0 = Tutel's bounded dropless). Default: the router's `capacityFactors.train`, else 1.25. */
  capacityFactorTrain?: number;
  /** Capacity factor in evaluation. Default: the router's `capacityFactors.eval`, else 2.0. */
  capacityFactorEval?: number;
  /** A library's capacity convention (see {@link capacityPresets}). Default: none (moekit's own). */
  capacityPreset?: CapacityPresetName;
  /** Rounding of the even share, without a preset. Default `'ceil'`. */
  capacityRounding?: CapacityRounding;
  /** Multiply the even share by `K`, without a preset. Default `true`. */
  capacityMultiplyByK?: boolean;
  /** Round the capacity up to a multiple of this. Default 1 or the preset's. */
  capacityMultipleOf?: number;
  /** Lower bound of a positive-factor capacity. Default 1 or the preset's. */
  minCapacity?: number;
  /** Combine-weight normalisation over a token's choices. Default `'none'`. */
  renormalize?: Renormalize;
  /** Where later choices start in an expert's buffer. Default `'kept'`. */
  secondChoiceOffset?: SecondChoiceOffset;
  /** Reject NaN/Inf in the input and the gate logits (one device reduction each). Default `true`. */
  checkFinite?: boolean;
  /**
   * How expert inputs are laid out (see {@link BufferLayout}). `'auto'` (default) picks `'grouped'` when
   * the bank offers `applyGrouped` and the backend computes on the host (`cpu`, `wasm`), where the
   * group sizes cost nothing to read and no padding is multiplied; `'padded'` otherwise (GPU backends,
   * where reading group sizes would stall the device).
   */
  layout?: BufferLayout | 'auto';
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

/** What {@link MixtureOfExperts.apply} returns. */
export interface MoEOutput {
  /** The combined expert outputs, shaped as `x` with its feature part replaced by the experts'. */
  output: tf.Tensor;
  /** The router's (and experts') aux losses: `total` weighted, parts unweighted. */
  auxLosses: AuxLosses;
  /** Load, drops, importance, entropy of this call. */
  metrics: RoutingMetrics;
}

const KNOWN_ARGS = new Set([
  'router', 'experts', 'combiner', 'shared', 'capacityFactorTrain', 'capacityFactorEval', 'capacityPreset',
  'capacityRounding', 'capacityMultiplyByK', 'capacityMultipleOf', 'minCapacity', 'renormalize',
  'secondChoiceOffset', 'checkFinite', 'layout',
]);

/**
 * A sparse Mixture-of-Experts layer as a plain function of tensors (the functional API; the tfjs-layers
 * adapter wraps it): route, plan capacity and slots off the tape, dispatch, apply the expert bank,
 * combine. `y = Σ_k G(x)_k · E_{i_k}(x)` (Shazeer et al. 2017, Eq. 1) over the kept choices.
 *
 * @example
 * ```ts
 * const moe = new MixtureOfExperts({ router, experts, capacityFactorTrain: 1.25 });
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
  readonly config: Readonly<Omit<Required<MixtureOfExpertsArgs>, 'router' | 'experts' | 'combiner' | 'shared' | 'capacityPreset' | 'capacityRounding' | 'capacityMultiplyByK' | 'capacityMultipleOf' | 'minCapacity'>> &
    Pick<MixtureOfExpertsArgs, 'capacityPreset' | 'capacityRounding' | 'capacityMultiplyByK' | 'capacityMultipleOf' | 'minCapacity'>;

  /** Validates `args` (unknown options are rejected by name) and fills in the defaults. */
  constructor(args: MixtureOfExpertsArgs) {
    const where = 'MixtureOfExperts';
    rejectUnknownOptions(where, args, [...KNOWN_ARGS]);
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
    this.config = {
      capacityFactorTrain: args.capacityFactorTrain ?? args.router.capacityFactors?.train ?? 1.25,
      capacityFactorEval: args.capacityFactorEval ?? args.router.capacityFactors?.eval ?? 2.0,
      capacityPreset: args.capacityPreset,
      capacityRounding: args.capacityRounding,
      capacityMultiplyByK: args.capacityMultiplyByK,
      capacityMultipleOf: args.capacityMultipleOf,
      minCapacity: args.minCapacity,
      renormalize: args.renormalize ?? 'none',
      secondChoiceOffset: args.secondChoiceOffset ?? 'kept',
      checkFinite: args.checkFinite ?? true,
      layout: args.layout ?? 'auto',
    };
    checkFiniteNumber(where, 'capacityFactorTrain', this.config.capacityFactorTrain);
    checkFiniteNumber(where, 'capacityFactorEval', this.config.capacityFactorEval);
    checkOneOf(where, 'renormalize', this.config.renormalize, ['none', 'beforeDrop', 'afterDrop']);
    checkOneOf(where, 'secondChoiceOffset', this.config.secondChoiceOffset, ['all', 'kept']);
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

  /** Number of experts `E`. */
  get numExperts(): number {
    return this.router.numExperts;
  }

  /** The router's, the experts' and the shared branch's trainable variables. */
  get trainableVariables(): tf.Variable[] {
    return [...this.router.trainableVariables, ...this.experts.trainableVariables, ...(this.shared?.trainableVariables ?? [])];
  }

  /**
   * Routes `x` (rank ≥ 2, tokens first), runs the experts and combines their outputs.
   * The caller owns the returned tensors (`output` and every aux loss).
   */
  apply(x: tf.Tensor, options: MoEApplyOptions): MoEOutput {
    const where = 'MixtureOfExperts.apply';
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
    if (this.config.checkFinite) {
      checkAllFinite(where, 'x', x);
      if (gateInput !== x) checkAllFinite(where, 'gateInput', gateInput);
    }
    const numTokens = tokenShape.reduce((a, b) => a * b, 1);
    const factor = options.training ? this.config.capacityFactorTrain : this.config.capacityFactorEval;

    let metrics: RoutingMetrics | undefined;
    const result = tf.tidy(() => {
      const tokens = tf.reshape(x, [numTokens, ...featureShape]); // [T, ...F]
      const gate2d = tf.reshape(gateInput, [numTokens, gateInput.shape[gateInput.rank - 1]!]) as tf.Tensor2D; // [T, Dg]
      const routing = this.router.route(gate2d, { training: options.training });
      this.checkRouterOutput(routing, numTokens);
      const plan = planRouting(routing, this.numExperts, {
        capacityFactor: factor,
        preset: this.config.capacityPreset,
        rounding: this.config.capacityRounding,
        multiplyByK: this.config.capacityMultiplyByK,
        multipleOf: this.config.capacityMultipleOf,
        minCapacity: this.config.minCapacity,
        renormalize: this.config.renormalize,
        secondChoiceOffset: this.config.secondChoiceOffset,
      });
      const layout = this.resolveLayout();
      const expertOptions = { training: options.training };
      const expertOutput = layout === 'grouped'
        ? this.experts.applyGrouped!(dispatch(tokens, plan, 'grouped'), Array.from(plan.load.dataSync()), expertOptions) // [N, ...F']
        : this.experts.apply(dispatch(tokens, plan), expertOptions); // [E, C, ...F']
      const routed = this.combiner.combine(expertOutput, plan, layout); // [T, ...F']
      const combined = this.shared === undefined ? routed : tf.add(routed, this.shared.apply(tokens, expertOptions)); // + shared branch
      metrics = routingMetrics(plan, routing.probs);
      disposeRoutingPlan(plan);
      const output = tf.reshape(combined, [...tokenShape, ...combined.shape.slice(1)]);
      return { output, auxLosses: routing.auxLosses };
    });
    this.lastMetrics = metrics;
    return { output: result.output, auxLosses: result.auxLosses, metrics: metrics! };
  }

  private checkRouterOutput(routing: RouterOutput, numTokens: number): void {
    const where = 'MixtureOfExperts.apply (router output)';
    const E = this.numExperts;
    checkShape(where, 'logits', routing.logits, [numTokens, E]);
    checkShape(where, 'probs', routing.probs, [numTokens, E]);
    checkShape(where, 'expertIndex', routing.expertIndex, [numTokens, this.router.k]);
    checkDtype(where, 'expertIndex', routing.expertIndex, 'int32');
    if (routing.auxLosses?.total === undefined) {
      throw new MoEArgumentError(where, 'auxLosses.total', 'a scalar tensor', describe(routing.auxLosses?.total));
    }
    if (this.config.checkFinite) checkAllFinite(where, 'logits', routing.logits);
  }

  /** Releases the router's, the experts' and the shared branch's variables. */
  dispose(): void {
    this.router.dispose();
    this.experts.dispose();
    this.shared?.dispose();
  }
}
