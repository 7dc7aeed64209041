import * as tf from '@tensorflow/tfjs-core';
import { clampIndex, componentConfig, expectTokenChoice, fromComponentConfig, MoEArgumentError, offTape, type CapacityConfig, type RouteOptions, type Router, type TokenChoiceOutput } from '@moekit/core';

/** Configuration of a {@link BatchPriorityRouter}. */
export interface BatchPriorityRouterArgs {
  /** The top-k router whose choices are placed by priority (any moekit router that picks its top-k gates). */
  router: Router;
}

function checkTopKRouter(router: unknown): asserts router is Router {
  const r = router as Partial<Router> | undefined;
  if (r === undefined || typeof r.route !== 'function' || !Number.isInteger(r.k) || !Number.isInteger(r.numExperts)) {
    throw new MoEArgumentError('BatchPriorityRouter', 'router', 'a top-k Router (numExperts, k, route)', r === undefined ? 'undefined' : `an object without ${['route', 'k', 'numExperts'].filter((m) => !(m in (r as object))).join(', ') || 'valid route/k/numExperts'}`);
  }
}

/**
 * Batch Priority Routing, Riquelme et al. 2021 ("Scaling Vision with Sparse Mixture of Experts",
 * https://arxiv.org/abs/2106.05974, §4.1), over any top-k router: each token's priority is its top-1
 * gate weight, so when experts overflow the tokens the router is least sure of are dropped first.
 * Tokens are placed in descending priority and all first choices before any second choice (V-MoE's
 * `batch_priority`: `argsort(-combine_weights[:, 0])`, then a K-major cumsum); combine weights are the
 * wrapped router's raw gates. Nothing is re-implemented: the priority is handed to core's slot
 * assignment. The wrapped router's weights, losses and capacity factors are passed through.
 *
 * @example
 * ```ts
 * const router = new BatchPriorityRouter({ router: new TopKRouter({ numExperts: 8, k: 2, noise: 'gaussian' }) });
 * const moe = new MixtureOfExperts({ router, experts, capacity: { eval: 0.5 } }); // drops the least confident tokens
 * ```
 */
export class BatchPriorityRouter extends tf.serialization.Serializable implements Router {
  /** Name under which the class is registered for (de)serialisation. */
  static readonly className = 'BatchPriorityRouter';
  /** The wrapped top-k router. */
  readonly router: Router;
  private checked = false;

  /** Wraps `args.router`; rejects anything that is not a top-k router. */
  constructor(args: BatchPriorityRouterArgs) {
    super();
    checkTopKRouter(args?.router);
    this.router = args.router;
  }

  /** `E` of the wrapped router. */
  get numExperts(): number {
    return this.router.numExperts;
  }

  /** `K` of the wrapped router. */
  get k(): number {
    return this.router.k;
  }

  /** Whether the wrapped router honours {@link RouteOptions.excludedExperts} (passed through). */
  get supportsExcludedExperts(): boolean {
    return this.router.supportsExcludedExperts === true;
  }

  /** The wrapped router's variables. */
  get trainableVariables(): tf.Variable[] {
    return this.router.trainableVariables;
  }

  /** The wrapped router's capacity, if it has one. */
  get capacity(): CapacityConfig | undefined {
    return this.router.capacity;
  }

  /**
   * Routes with the wrapped router and adds `priority` `[T]` = each token's gate at its first choice,
   * on the device (core sorts by it). The first call checks, with one host read, that the first choice
   * is the token's highest gate (the wrapped router is top-k); later calls read nothing.
   */
  route(gateInput: tf.Tensor2D, options: RouteOptions): TokenChoiceOutput {
    const out = expectTokenChoice(this.router.route(gateInput, options), 'BatchPriorityRouter.route');
    const numTokens = gateInput.shape[0];
    const numExperts = this.numExperts;
    // V-MoE: priority = combine weight of the top-1 choice, a constant to autodiff
    const priority = offTape(() => tf.tidy(() => {
      const first = tf.reshape(tf.slice(out.expertIndex, [0, 0], [-1, 1]), [numTokens]); // [T]
      const flat = tf.add(tf.mul(tf.range(0, numTokens, 1, 'int32'), tf.scalar(numExperts, 'int32')), clampIndex(first, numExperts)); // [T] t·E + e
      return tf.gather(tf.reshape(out.probs, [-1]), flat) as tf.Tensor1D; // [T] top-1 gate
    }));
    if (!this.checked) {
      const worst = tf.tidy(() => tf.max(tf.sub(tf.max(out.probs, 1), priority)).dataSync()[0]!);
      if (worst > 1e-6) {
        tf.dispose([priority, out.logits, out.probs, out.expertIndex, out.priority, ...Object.values(out.auxLosses)]);
        throw new MoEArgumentError('BatchPriorityRouter.route', 'router', "a top-k router (each token's first choice is its highest gate)", `a first choice ${worst.toPrecision(3)} below the highest gate`);
      }
      this.checked = true;
    }
    out.priority?.dispose();
    return { ...out, priority };
  }

  /** The wrapped router's gate weights `[Dg, E]` (a copy); throws if it does not expose them. */
  gateWeights(): tf.Tensor2D {
    if (typeof this.router.gateWeights !== 'function') {
      throw new MoEArgumentError('BatchPriorityRouter.gateWeights', 'router', 'a wrapped router with gateWeights()', 'a router without it');
    }
    return this.router.gateWeights();
  }

  /** Batch priority routing over the wrapped router's `selectExperts(keep)`; this router is left untouched. */
  selectExperts(keep: readonly number[]): BatchPriorityRouter {
    if (typeof this.router.selectExperts !== 'function') {
      throw new MoEArgumentError('BatchPriorityRouter.selectExperts', 'router', 'a wrapped router with selectExperts(keep)', 'a router without it');
    }
    return new BatchPriorityRouter({ router: this.router.selectExperts(keep) });
  }

  /** `{ router: { className, config } }` of the wrapped (registered) router. */
  override getConfig(): tf.serialization.ConfigDict {
    return { router: componentConfig(this.router, 'BatchPriorityRouter.getConfig', 'router') as unknown as tf.serialization.ConfigDict };
  }

  /** Rebuilds the wrapped router from the serialisation registry, then the wrapper. */
  static override fromConfig<T extends tf.serialization.Serializable>(cls: tf.serialization.SerializableConstructor<T>, config: tf.serialization.ConfigDict): T {
    return new cls({ router: fromComponentConfig<Router>(config['router'], 'BatchPriorityRouter.fromConfig', 'router') });
  }

  /** Releases the wrapped router. */
  dispose(): void {
    this.router.dispose();
  }
}

/** Wraps a top-k router in a {@link BatchPriorityRouter}. */
export function batchPriorityRouter(args: BatchPriorityRouterArgs): BatchPriorityRouter {
  return new BatchPriorityRouter(args);
}
