import * as tf from '@tensorflow/tfjs-core';
import { arg, MoEArgumentError, hasCapability, RouterWrapper, type ArgsTable, type RouteOptions, type Router, type RouterOutput } from '@moekit/core';
import { sparseCleanGates } from './sparse-clean-gates.js';

/** How the hard constraint tracks utilisation: the running sum of relative deviations, or the running mean of shares. */
export type HardConstraintMode = 'relative' | 'absolute';

/** Configuration of a {@link HardConstraintRouter}. */
export interface HardConstraintRouterArgs {
  /** The router to constrain; it must have the `'excludedExperts'` capability. */
  router: Router;
  /** `'relative'` or `'absolute'`. Default `'relative'`. */
  mode?: HardConstraintMode;
  /** Experts whose tracked utilisation exceeds it are excluded for the next batch; in (0, 1]. Default 0.1. */
  threshold?: number;
  /**
   * Also exclude the over-threshold experts at evaluation, from the tracked state (which evaluation does
   * not update). Default `false`: the paper constrains training only, and the state at the end of
   * training is a snapshot of the last batches that takes whole experts out for every test image; set it
   * to evaluate the routing the constraint trained (an expert over its share then takes no test image).
   */
  applyInEvaluation?: boolean;
}

/**
 * Pavlitska et al. 2022 (arXiv:2204.10598, §3.3) hard constraint on expert utilisation. Over training
 * batches it tracks each expert's importance `I_i = Σ_x G̃(x)_i` over the sparse gates of what is
 * dispatched — each image's clean softmax value at its noise-free top-k experts, 0 elsewhere
 * ({@link sparseCleanGates}; Shazeer et al. 2017 Eq. 6 sums the sparse gates, and the full softmax can
 * look balanced while every image goes to one expert) — as a share `s_i = I_i / Σ_j I_j` against the
 * uniform share `1/E`:
 * - relative: `u_i = Σ_batches (s_i − 1/E) / (1/E)`, the running sum of relative deviations;
 * - absolute: `u_i = mean_batches(s_i) − 1/E`, the running mean share minus the uniform share.
 *
 * Experts with `u_i > threshold` get gate logits −∞ for the next training batch
 * (`RouteOptions.excludedExperts`), at most `E − k` of them (the most over-used), so every image keeps
 * `k` experts to choose. Evaluation updates nothing; it routes unmasked unless `applyInEvaluation`.
 *
 * @example
 * ```ts
 * import { HardConstraintRouter } from '@moekit/experts-conv';
 * import { TopKRouter } from '@moekit/router-topk';
 *
 * const router = new HardConstraintRouter({ router: new TopKRouter({ numExperts: 4, k: 2, noise: 'shazeer' }), mode: 'relative', threshold: 0.1, applyInEvaluation: true });
 * ```
 */
export class HardConstraintRouter extends RouterWrapper<HardConstraintRouterArgs, Required<HardConstraintRouterArgs>> {
  /** Name under which the class is registered for (de)serialisation. */
  static readonly className = 'HardConstraintRouter';
  /** The arguments: the wrapped router (which must honour `excludedExperts`), defaults and checks. */
  static readonly argsTable: ArgsTable<HardConstraintRouterArgs> = {
    router: arg.component<Router>({
      check: (where, name, router) => {
        if (!hasCapability(router, 'excludedExperts')) throw new MoEArgumentError(where, name, "a router with the 'excludedExperts' capability (it honours RouteOptions.excludedExperts)", `${router.constructor.name}, which does not declare it`);
      },
    }),
    mode: arg.oneOf<HardConstraintMode>(['relative', 'absolute'], { default: 'relative' }),
    threshold: arg.value<number>({
      default: 0.1,
      check: (where, name, value) => {
        if (!(value > 0 && value <= 1)) throw new MoEArgumentError(where, name, 'a number in (0, 1]', String(value));
      },
    }),
    applyInEvaluation: arg.boolean({ default: false }),
  };
  /** Whether evaluation excludes the over-threshold experts too; may be switched between evaluations (e.g. to compare both). */
  applyInEvaluation: boolean;
  private sum: number[];
  private batches = 0;

  /** Validates the arguments (unknown options rejected by name). */
  constructor(args: HardConstraintRouterArgs) {
    super(args);
    this.applyInEvaluation = this.config.applyInEvaluation;
    this.sum = new Array<number>(this.numExperts).fill(0);
  }

  /** The tracking mode. */
  get mode(): HardConstraintMode {
    return this.config.mode;
  }

  /** The threshold. */
  get threshold(): number {
    return this.config.threshold;
  }

  /** The arguments, `applyInEvaluation` as currently set (the tracked state is not saved: {@link setState} restores it). */
  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), applyInEvaluation: this.applyInEvaluation };
  }

  /** Tracked utilisation `u_i` per expert (all 0 before the first training batch). */
  get utilization(): number[] {
    if (this.mode === 'relative') return [...this.sum];
    const E = this.numExperts;
    return this.sum.map((s) => (this.batches === 0 ? 0 : s / this.batches - 1 / E));
  }

  /** The experts the next training batch excludes: `u_i > threshold`, at most `E − k` (the largest `u_i`; ties to the lower index). */
  get excludedExperts(): boolean[] {
    const u = this.utilization;
    const over = u.map((_, i) => i).filter((i) => u[i]! > this.threshold).sort((a, b) => u[b]! - u[a]! || a - b);
    const excluded = new Array<boolean>(u.length).fill(false);
    for (const i of over.slice(0, this.numExperts - this.k)) excluded[i] = true;
    return excluded;
  }

  /**
   * Sets the tracked state, e.g. to resume training: `sum` is `Σ (s_i − 1/E)/(1/E)` (relative) or
   * `Σ s_i` (absolute) over `batches` batches.
   */
  setState(sum: number[], batches: number): void {
    if (sum.length !== this.numExperts || !sum.every(Number.isFinite)) {
      throw new MoEArgumentError('HardConstraintRouter.setState', 'sum', `${this.numExperts} finite numbers`, `${sum.length} values`);
    }
    if (!Number.isInteger(batches) || batches < 0) throw new MoEArgumentError('HardConstraintRouter.setState', 'batches', 'an integer ≥ 0', String(batches));
    this.sum = [...sum];
    this.batches = batches;
  }

  /** Forgets the tracked utilisation. */
  reset(): void {
    this.sum.fill(0);
    this.batches = 0;
  }

  /** Routes with over-used experts excluded (in training, and in evaluation with `applyInEvaluation`); training adds this batch's shares to the tracker. */
  route(gateInput: tf.Tensor2D, options: RouteOptions): RouterOutput {
    this.assertLive('HardConstraintRouter.route');
    if (!options.training && !this.applyInEvaluation) return this.router.route(gateInput, options);
    const excluded = this.excludedExperts;
    const out = this.router.route(gateInput, { ...options, excludedExperts: excluded.includes(true) ? excluded : undefined });
    if (!options.training) return out;
    const importance = Array.from(tf.tidy(() => tf.sum(sparseCleanGates(out.logits, this.k), 0).dataSync())); // [E] I_i = Σ_x G̃(x)_i
    const total = importance.reduce((a, b) => a + b, 0);
    const E = this.numExperts;
    for (let i = 0; i < E; i++) {
      const share = total > 0 ? importance[i]! / total : 1 / E; // s_i
      this.sum[i]! += this.mode === 'relative' ? (share - 1 / E) / (1 / E) : share;
    }
    this.batches += 1;
    return out;
  }
}
