import * as tf from '@tensorflow/tfjs-core';
import { loadBalancingLoss } from '../losses/load-balancing-loss.js';
import type { Router, RouteOptions, TokenChoiceOutput } from '../contracts/router.js';
import { checkExpertSelection, copyExpertSlices } from '../routers/expert-selection.js';
import { selectTopK } from '../routers/select-top-k.js';
import { excludeExperts } from '../routers/exclude-experts.js';
import { checkShape } from '../util/validate.js';
import { arg, type ArgsTable } from '../components/args-table.js';
import type { Capability } from '../components/capabilities.js';
import { Component } from '../components/component.js';

/** Configuration of a {@link LinearTopKRouter}. */
export interface LinearTopKRouterArgs {
  /** Gate input width `Dg`. */
  inputDim: number;
  /** Experts `E`. */
  numExperts: number;
  /** Choices per token `K`. Default 1. */
  k?: number;
  /** Weight of the Switch load-balancing loss. Default 0.01. */
  balanceWeight?: number;
  /** Seed of the uniform ±1/√Dg initialiser. Default 0. */
  seed?: number;
}

/**
 * A noiseless softmax top-k router over a linear gate (`probs = softmax(x · Wg)`) with the Switch
 * load-balancing loss: a minimal trainable router for tests of gradients and training that must not
 * depend on `@moekit/router-topk` (which adds noise, policies and the paper losses).
 */
export class LinearTopKRouter extends Component<LinearTopKRouterArgs, Required<LinearTopKRouterArgs>> implements Router {
  /** Name under which the class is registered for (de)serialisation. */
  static readonly className = 'LinearTopKRouter';
  /** The arguments: defaults and checks. */
  static readonly argsTable: ArgsTable<LinearTopKRouterArgs> = {
    inputDim: arg.integer({ min: 1 }),
    numExperts: arg.integer({ min: 1 }),
    k: arg.integer({ min: 1, max: (r) => r['numExperts'] as number, default: 1 }),
    balanceWeight: arg.number({ min: 0, default: 0.01 }),
    seed: arg.number({ default: 0 }),
  };
  /** Honours excluded experts, gives its gate weights, selects experts. */
  static readonly capabilities: readonly Capability[] = ['excludedExperts', 'gateWeights', 'selectExperts'];

  /** Creates the gate weights `[Dg, E]`, uniform in ±1/√Dg. */
  constructor(args: LinearTopKRouterArgs) {
    super(args);
    const { inputDim, numExperts, seed } = this.config;
    const limit = 1 / Math.sqrt(inputDim);
    this.addVariable('kernel', tf.randomUniform([inputDim, numExperts], -limit, limit, 'float32', seed));
  }

  /** `E`. */
  get numExperts(): number {
    return this.config.numExperts;
  }

  /** `K`. */
  get k(): number {
    return this.config.k;
  }

  /** The gate-input width `Dg` the weights take. */
  get inputDim(): number {
    return this.config.inputDim;
  }

  /** `[Dg, E]` gate weights. */
  get kernel(): tf.Variable {
    return this.variable('kernel', 'LinearTopKRouter.kernel');
  }

  /** Scores `[T, Dg]` and picks the top `k` experts per token. */
  route(gateInput: tf.Tensor2D, options: RouteOptions): TokenChoiceOutput {
    checkShape('LinearTopKRouter.route', 'gateInput', gateInput, [gateInput.shape[0], this.kernel.shape[0]!]);
    return tf.tidy(() => {
      const logits = excludeExperts(tf.matMul(gateInput, this.kernel as tf.Tensor2D) as tf.Tensor2D, options.excludedExperts); // [T, E]
      const probs = tf.softmax(logits) as tf.Tensor2D; // [T, E]
      const expertIndex = selectTopK(probs, this.k); // [T, K]
      const loadBalancing = loadBalancingLoss(probs, expertIndex, this.numExperts);
      return {
        logits,
        probs,
        expertIndex,
        auxLosses: { total: tf.mul(this.config.balanceWeight, loadBalancing) as tf.Scalar, loadBalancing },
      };
    });
  }

  /** A copy of the gate kernel `[Dg, E]`: column `e` is expert `e`'s router weight vector. */
  gateWeights(): tf.Tensor2D {
    return tf.clone(this.kernel) as tf.Tensor2D;
  }

  /** A new router over the experts `keep` (kept gate columns copied, `k = min(k, keep.length)`); this one is unchanged. */
  selectExperts(keep: readonly number[]): LinearTopKRouter {
    checkExpertSelection('LinearTopKRouter.selectExperts', keep, this.numExperts);
    const router = new LinearTopKRouter({ ...this.config, numExperts: keep.length, k: Math.min(this.k, keep.length) });
    copyExpertSlices(router.kernel, this.kernel, keep, 1);
    return router;
  }
}
