import * as tf from '@tensorflow/tfjs-core';
import { clampIndex, expectTokenChoice, hasCapability, MoEArgumentError, offTape, requireCapability, RouterWrapper, wrappedRouterArg, type ArgsTable, type Capability, type ResolvedSoFar, type RouteOptions, type Router, type RouterWrapperArgs, type TokenChoiceOutput } from '@moekit/core';

/** Configuration of a {@link BatchPriorityRouter}. */
export interface BatchPriorityRouterArgs extends RouterWrapperArgs {
  /** The top-k router whose choices are placed by priority (any moekit router that picks its top-k gates). */
  router: Router;
}

/** The wrapped router's check: a component (the base's) that routes and has integer `numExperts` and `k`. */
function checkTopKRouter(where: string, name: string, router: Router, resolved: ResolvedSoFar): void {
  wrappedRouterArg.check?.(where, name, router, resolved);
  const r = router as Partial<Router>;
  if (typeof r.route !== 'function' || !Number.isInteger(r.k) || !Number.isInteger(r.numExperts)) {
    throw new MoEArgumentError(where, name, 'a top-k Router (numExperts, k, route)', `an object without ${['route', 'k', 'numExperts'].filter((m) => !(m in r)).join(', ') || 'valid route/k/numExperts'}`);
  }
}

/**
 * Batch Priority Routing, Riquelme et al. 2021 ("Scaling Vision with Sparse Mixture of Experts",
 * https://arxiv.org/abs/2106.05974, §4.1), over any top-k router: each token's priority is its top-1
 * gate weight, so when experts overflow the tokens the router is least sure of are dropped first.
 * Tokens are placed in descending priority and all first choices before any second choice (V-MoE's
 * `batch_priority`: `argsort(-combine_weights[:, 0])`, then a K-major cumsum); combine weights are the
 * wrapped router's raw gates. Nothing is re-implemented: the priority is handed to core's slot
 * assignment. The wrapped router's weights, losses, capacity factors and
 * capabilities are passed through; it is saved and loaded inside this router's config.
 *
 * @example
 * ```ts
 * import { MixtureOfExperts } from '@moekit/core';
 * import { BatchPriorityRouter } from '@moekit/router-batch-priority';
 * import { TopKRouter } from '@moekit/router-topk';
 *
 * const router = new BatchPriorityRouter({ router: new TopKRouter({ numExperts: 8, k: 2, noise: 'gaussian' }) });
 * const moe = new MixtureOfExperts({ router, experts, capacity: { eval: 0.5 } }); // drops the least confident tokens
 * ```
 */
export class BatchPriorityRouter extends RouterWrapper<BatchPriorityRouterArgs> {
  /** Name under which the class is registered for (de)serialisation. */
  static readonly className = 'BatchPriorityRouter';
  /** The arguments: the wrapped router, which must be a top-k router. */
  static readonly argsTable: ArgsTable<BatchPriorityRouterArgs> = { router: { ...wrappedRouterArg, check: checkTopKRouter } };
  private checked = false;

  /** The wrapped router's capabilities, `'selectExperts'` included when it has it (the selection is re-wrapped). */
  override get capabilities(): ReadonlySet<Capability> {
    const capabilities = new Set(super.capabilities);
    if (hasCapability(this.router, 'selectExperts')) capabilities.add('selectExperts');
    return capabilities;
  }

  /**
   * Routes with the wrapped router and adds `priority` `[T]` = each token's gate at its first choice,
   * on the device (core sorts by it). The first call checks, with one host read, that the first choice
   * is the token's highest gate (the wrapped router is top-k); later calls read nothing.
   */
  route(gateInput: tf.Tensor2D, options: RouteOptions): TokenChoiceOutput {
    this.assertLive('BatchPriorityRouter.route');
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

  /** Batch priority routing over the wrapped router's `selectExperts(keep)`; this router is left untouched. */
  selectExperts(keep: readonly number[]): BatchPriorityRouter {
    const where = 'BatchPriorityRouter.selectExperts';
    this.assertLive(where);
    return new BatchPriorityRouter({ router: requireCapability(this.router, 'selectExperts', where, 'router').selectExperts(keep) as Router });
  }
}

/** Wraps a top-k router in a {@link BatchPriorityRouter}. */
export function batchPriorityRouter(args: BatchPriorityRouterArgs): BatchPriorityRouter {
  return new BatchPriorityRouter(args);
}
