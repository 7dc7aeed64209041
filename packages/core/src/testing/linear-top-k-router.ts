import * as tf from '@tensorflow/tfjs-core';
import { loadBalancingLoss } from '../losses/load-balancing-loss.js';
import type { Router, RouteOptions, TokenChoiceOutput } from '../router.js';
import { checkExpertSelection, copyExpertSlices } from '../expert-selection.js';
import { selectTopK } from '../select-top-k.js';
import { excludeExperts } from '../exclude-experts.js';
import { checkInteger, checkShape } from '../validate.js';

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
export class LinearTopKRouter extends tf.serialization.Serializable implements Router {
  /** Name under which the class is registered for (de)serialisation. */
  static readonly className = 'LinearTopKRouter';
  /** `E`. */
  readonly numExperts: number;
  /** `K`. */
  readonly k: number;
  /** Honours {@link RouteOptions.excludedExperts}. */
  readonly supportsExcludedExperts = true;
  /** `[Dg, E]` gate weights. */
  readonly kernel: tf.Variable;
  private readonly balanceWeight: number;
  private readonly args: LinearTopKRouterArgs;

  /** Creates the gate weights. */
  constructor(args: LinearTopKRouterArgs) {
    super();
    this.args = args;
    checkInteger('LinearTopKRouter', 'inputDim', args.inputDim, 1);
    checkInteger('LinearTopKRouter', 'numExperts', args.numExperts, 1);
    this.numExperts = args.numExperts;
    this.k = args.k ?? 1;
    checkInteger('LinearTopKRouter', 'k', this.k, 1, this.numExperts);
    this.balanceWeight = args.balanceWeight ?? 0.01;
    const limit = 1 / Math.sqrt(args.inputDim);
    const initial = tf.randomUniform([args.inputDim, args.numExperts], -limit, limit, 'float32', args.seed ?? 0);
    this.kernel = tf.variable(initial, true);
    initial.dispose();
  }

  /** `[Wg]`. */
  get trainableVariables(): tf.Variable[] {
    return [this.kernel];
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
        auxLosses: { total: tf.mul(this.balanceWeight, loadBalancing) as tf.Scalar, loadBalancing },
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
    const router = new LinearTopKRouter({ ...this.args, numExperts: keep.length, k: Math.min(this.k, keep.length) });
    copyExpertSlices(router.kernel, this.kernel, keep, 1);
    return router;
  }

  /** The constructor arguments. */
  override getConfig(): tf.serialization.ConfigDict {
    return { ...this.args };
  }

  /** Rebuilds the router (fresh weights) from its config. */
  static override fromConfig<T extends tf.serialization.Serializable>(cls: tf.serialization.SerializableConstructor<T>, config: tf.serialization.ConfigDict): T {
    return new cls(config);
  }

  /** Releases the gate weights. */
  dispose(): void {
    this.kernel.dispose();
  }
}
