import type * as tf from '@tensorflow/tfjs-core';
import type { CapacityConfig } from '../routing/capacity-config.js';
import { arg, type ArgSpec } from '../components/args-table.js';
import { requireCapability, type Capability } from '../components/capabilities.js';
import { Component } from '../components/component.js';
import type { RouteOptions, Router, RouterOutput } from '../contracts/router.js';

/** The argument every {@link RouterWrapper} has: the router it wraps. */
export interface RouterWrapperArgs {
  /** The wrapped router (saved and loaded with the wrapper). */
  router: Router;
}

/** The args-table entry of the wrapped router, for a wrapper's own table. */
export const wrappedRouterArg: ArgSpec<Router> = arg.component<Router>();

/**
 * Base of routers that wrap another router and change what it returns or how it is called (a
 * utilisation constraint, a priority): `E`, `K`, the capacity, lazy building and the
 * `excludedExperts` / `gateWeights` capabilities are the wrapped router's; its variables are the
 * wrapper's under `router/`, it is disposed with the wrapper, and it is saved and loaded inside the
 * wrapper's config. Subclasses declare `router: wrappedRouterArg` in their args table and implement `route`.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { type ArgsTable, type RouteOptions, RouterWrapper, type RouterWrapperArgs, wrappedRouterArg } from '@moekit/core';
 *
 * class LoggingRouter extends RouterWrapper {
 *   static readonly className = 'LoggingRouter';
 *   static readonly argsTable: ArgsTable<RouterWrapperArgs> = { router: wrappedRouterArg };
 *   route(x: tf.Tensor2D, options: RouteOptions) { console.log(x.shape); return this.router.route(x, options); }
 * }
 * ```
 */
export abstract class RouterWrapper<A extends RouterWrapperArgs = RouterWrapperArgs, C extends RouterWrapperArgs = A> extends Component<A, C> implements Router {
  /** The wrapped router. */
  get router(): Router {
    return this.config.router;
  }

  /** `E` of the wrapped router. */
  get numExperts(): number {
    return this.router.numExperts;
  }

  /** `K` of the wrapped router. */
  get k(): number {
    return this.router.k;
  }

  /** The wrapped router's capacity, if it has one. */
  get capacity(): CapacityConfig | undefined {
    return this.router.capacity;
  }

  /** The wrapped router's `excludedExperts` and `gateWeights` capabilities (a wrapper does not select experts unless it says so). */
  override get capabilities(): ReadonlySet<Capability> {
    const inner = this.router.capabilities ?? new Set<Capability>();
    return new Set([...super.capabilities, ...[...inner].filter((c) => c !== 'selectExperts')]);
  }

  /** The wrapped router's per-expert weight vectors `[Dg, E]`. */
  gateWeights(): tf.Tensor2D {
    const where = `${this.getClassName()}.gateWeights`;
    this.assertLive(where);
    return requireCapability(this.router, 'gateWeights', where, 'router').gateWeights();
  }

  /** The wrapped router's input width `Dg` once built, if it reports it. */
  get inputDim(): number | undefined {
    return this.router.inputDim;
  }

  /** Builds the wrapped router, if it builds lazily. */
  build(inputDim: number): void {
    this.assertLive(`${this.getClassName()}.build`);
    this.router.build?.(inputDim);
  }

  /** Scores and chooses experts (see {@link Router.route}). */
  abstract route(gateInput: tf.Tensor2D, options: RouteOptions): RouterOutput;
}
