import type * as tf from '@tensorflow/tfjs-core';
import type { CapacityConfig } from './capacity-config.js';
import type { RouteOptions, Router, RouterOutput } from './router.js';

/**
 * Base of routers that wrap another router and change what it returns or how it is called (a
 * utilisation constraint, a priority): `E`, `K`, the variables, the capacity factors, lazy building,
 * `supportsExcludedExperts` and `dispose` are the wrapped router's. Subclasses implement `route`.
 *
 * @example
 * ```ts
 * class LoggingRouter extends RouterWrapper {
 *   route(x: tf.Tensor2D, options: RouteOptions) { console.log(x.shape); return this.router.route(x, options); }
 * }
 * ```
 */
export abstract class RouterWrapper implements Router {
  /** The wrapped router. */
  readonly router: Router;

  /** Wraps `router`. */
  constructor(router: Router) {
    this.router = router;
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

  /** The wrapped router's variables. */
  get trainableVariables(): tf.Variable[] {
    return this.router.trainableVariables;
  }

  /** Whether the wrapped router honours {@link RouteOptions.excludedExperts}. */
  get supportsExcludedExperts(): boolean {
    return this.router.supportsExcludedExperts === true;
  }

  /** Builds the wrapped router, if it builds lazily. */
  build(inputDim: number): void {
    this.router.build?.(inputDim);
  }

  /** Scores and chooses experts (see {@link Router.route}). */
  abstract route(gateInput: tf.Tensor2D, options: RouteOptions): RouterOutput;

  /** Releases the wrapped router. */
  dispose(): void {
    this.router.dispose();
  }
}
