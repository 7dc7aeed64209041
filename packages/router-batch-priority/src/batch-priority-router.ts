import * as tf from '@tensorflow/tfjs-core';
import { MoEArgumentError, oneHotFloat, type RouteOptions, type Router, type RouterOutput, type CapacityFactors } from '@moekit/core';

/** Configuration of a {@link BatchPriorityRouter}. */
export interface BatchPriorityRouterArgs {
  /** The top-k router whose choices are placed by priority (any moekit router that picks its top-k gates). */
  router: Router;
}

/** A registered serialisable router, as `getConfig` / `fromConfig` see it. @internal */
interface SerializableRouter extends Router {
  getClassName(): string;
  getConfig(): tf.serialization.ConfigDict;
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
 * const moe = new MixtureOfExperts({ router, experts, capacityFactorEval: 0.5 }); // drops the least confident tokens
 * ```
 */
export class BatchPriorityRouter extends tf.serialization.Serializable implements Router {
  /** Name under which the class is registered for (de)serialisation. */
  static readonly className = 'BatchPriorityRouter';
  /** The wrapped top-k router. */
  readonly router: Router;

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

  /** The wrapped router's capacity factors, if it has any. */
  get capacityFactors(): CapacityFactors | undefined {
    return this.router.capacityFactors;
  }

  /**
   * Routes with the wrapped router and adds `priority` `[T]` = each token's gate at its first choice.
   * Throws if the first choice is not the token's highest gate (the wrapped router is not top-k).
   */
  route(gateInput: tf.Tensor2D, options: RouteOptions): RouterOutput {
    const out = this.router.route(gateInput, options);
    const numExperts = this.numExperts;
    const priority = tf.tidy(() => {
      const first = tf.squeeze(tf.slice(out.expertIndex, [0, 0], [-1, 1]), [1]); // [T]
      return tf.sum(tf.mul(out.probs, oneHotFloat(first, numExperts)), 1) as tf.Tensor1D; // [T] top-1 gate
    });
    const worst = tf.tidy(() => tf.max(tf.sub(tf.max(out.probs, 1), priority)).dataSync()[0]!);
    if (worst > 1e-6) {
      tf.dispose([priority, out.logits, out.probs, out.expertIndex, out.priority, ...Object.values(out.auxLosses)]);
      throw new MoEArgumentError('BatchPriorityRouter.route', 'router', "a top-k router (each token's first choice is its highest gate)", `a first choice ${worst.toPrecision(3)} below the highest gate`);
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
    const inner = this.router as SerializableRouter;
    if (typeof inner.getClassName !== 'function' || typeof inner.getConfig !== 'function') {
      throw new MoEArgumentError('BatchPriorityRouter.getConfig', 'router', 'a serialisable router (getClassName, getConfig)', 'a router without them');
    }
    return { router: { className: inner.getClassName(), config: inner.getConfig() } };
  }

  /** Rebuilds the wrapped router from the serialisation registry, then the wrapper. */
  static override fromConfig<T extends tf.serialization.Serializable>(cls: tf.serialization.SerializableConstructor<T>, config: tf.serialization.ConfigDict): T {
    const spec = config['router'] as { className: string; config: tf.serialization.ConfigDict };
    const innerClass = tf.serialization.SerializationMap.getMap().classNameMap[spec.className];
    if (innerClass === undefined) {
      throw new MoEArgumentError('BatchPriorityRouter.fromConfig', 'router.className', 'a class registered with tf.serialization (import its package first)', `'${spec.className}'`);
    }
    const [ctor, fromConfig] = innerClass;
    return new cls({ router: fromConfig(ctor, spec.config) });
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
