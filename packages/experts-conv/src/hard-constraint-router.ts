import * as tf from '@tensorflow/tfjs-core';
import { checkOneOf, MoEArgumentError, rejectUnknownOptions, type RouteOptions, RouterWrapper, type Router, type RouterOutput } from '@moekit/core';

/** How the hard constraint tracks utilisation: the running sum of relative deviations, or the running mean of shares. */
export type HardConstraintMode = 'relative' | 'absolute';

/** Configuration of a {@link HardConstraintRouter}. */
export interface HardConstraintRouterArgs {
  /** The router to constrain; it must declare `supportsExcludedExperts`. */
  router: Router;
  /** `'relative'` or `'absolute'`. Default `'relative'`. */
  mode?: HardConstraintMode;
  /** Experts whose tracked utilisation exceeds it are excluded for the next batch; in (0, 1]. Default 0.1. */
  threshold?: number;
}

/**
 * Pavlitska et al. 2022 (arXiv:2204.10598, §3.3) hard constraint on expert utilisation. Over training
 * batches it tracks each expert's importance `I_i = Σ_x G(x)_i` (the clean gates `softmax(logits)`,
 * excluded experts at 0, summed over the batch's `T` images) against the uniform share `T/E`:
 * - relative: `u_i = Σ_batches (I_i − T/E) / (T/E)`, the running sum of relative deviations;
 * - absolute: `u_i = mean_batches(I_i / T) − 1/E`, the running mean share minus the uniform share.
 *
 * Experts with `u_i > threshold` get gate logits −∞ for the next training batch
 * (`RouteOptions.excludedExperts`); evaluation routes unmasked and updates nothing.
 *
 * @example
 * ```ts
 * const router = new HardConstraintRouter({ router: new TopKRouter({ numExperts: 4, k: 1, noise: 'shazeer' }), mode: 'absolute', threshold: 0.1 });
 * ```
 */
export class HardConstraintRouter extends RouterWrapper {
  /** The tracking mode. */
  readonly mode: HardConstraintMode;
  /** The threshold. */
  readonly threshold: number;
  private sum: number[];
  private batches = 0;

  /** Validates the arguments (unknown options rejected by name). */
  constructor(args: HardConstraintRouterArgs) {
    const where = 'HardConstraintRouter';
    rejectUnknownOptions(where, args, ['router', 'mode', 'threshold']);
    if (args.router === undefined) throw new MoEArgumentError(where, 'router', 'a Router', 'undefined');
    if (args.router.supportsExcludedExperts !== true) {
      throw new MoEArgumentError(where, 'router', 'a router that honours excludedExperts (supportsExcludedExperts: true)', `${args.router.constructor.name}, which does not`);
    }
    super(args.router);
    this.mode = args.mode ?? 'relative';
    this.threshold = args.threshold ?? 0.1;
    checkOneOf(where, 'mode', this.mode, ['relative', 'absolute']);
    if (!(this.threshold > 0 && this.threshold <= 1)) throw new MoEArgumentError(where, 'threshold', 'a number in (0, 1]', String(this.threshold));
    this.sum = new Array<number>(args.router.numExperts).fill(0);
  }

  /** Tracked utilisation `u_i` per expert (all 0 before the first training batch). */
  get utilization(): number[] {
    if (this.mode === 'relative') return [...this.sum];
    const E = this.numExperts;
    return this.sum.map((s) => (this.batches === 0 ? 0 : s / this.batches - 1 / E));
  }

  /** The experts the next training batch excludes: `u_i > threshold`. */
  get excludedExperts(): boolean[] {
    return this.utilization.map((u) => u > this.threshold);
  }

  /**
   * Sets the tracked state, e.g. to resume training: `sum` is `Σ (I_i − T/E)/(T/E)` (relative) or
   * `Σ I_i/T` (absolute) over `batches` batches.
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

  /** Routes with over-used experts excluded (training only), then adds this batch's importance to the tracker. */
  route(gateInput: tf.Tensor2D, options: RouteOptions): RouterOutput {
    if (!options.training) return this.router.route(gateInput, options);
    const excluded = this.excludedExperts;
    const out = this.router.route(gateInput, { ...options, excludedExperts: excluded.includes(true) ? excluded : undefined });
    const importance = tf.tidy(() => tf.sum(tf.softmax(out.logits), 0).dataSync()); // [E] I_i = Σ_x G(x)_i over the clean gates
    const T = gateInput.shape[0];
    const E = this.numExperts;
    for (let i = 0; i < E; i++) {
      this.sum[i]! += this.mode === 'relative' ? (importance[i]! - T / E) / (T / E) : importance[i]! / T;
    }
    this.batches += 1;
    return out;
  }
}
