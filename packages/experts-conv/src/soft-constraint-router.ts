import * as tf from '@tensorflow/tfjs-core';
import { arg, checkInteger, importanceLoss, RouterWrapper, wrappedRouterArg, type ArgsTable, type RouteOptions, type Router, type RouterOutput } from '@moekit/core';
import { sparseCleanGates } from './sparse-clean-gates.js';

/** Which soft utilisation constraint: Shazeer's importance CV² or the KL divergence from uniform. */
export type SoftConstraintLoss = 'importance' | 'klUniform';

/** Configuration of a {@link SoftConstraintRouter}. */
export interface SoftConstraintRouterArgs {
  /** The router to constrain. */
  router: Router;
  /**
   * The loss. Default `'klUniform'`: once every image goes to the same `k` experts, the importance CV²
   * of the sparse gates is scale-invariant (e.g. `E/k − 1` when `k` experts share the mass equally) and has no gradient, while the
   * KL with `ε` still lowers the over-used experts' gates until the top-k changes.
   */
  loss?: SoftConstraintLoss;
  /** Its weight in `auxLosses.total`. Default 0.1 (Shazeer et al. 2017's `w_importance`). */
  weight?: number;
  /** From this epoch on ({@link SoftConstraintRouter.setEpoch}) the loss is no longer added. Default: never lifted. */
  liftAfterEpoch?: number;
  /** `ε` of `'klUniform'`, added to every expert's mean gate before normalising. Default 1e-6. */
  epsilon?: number;
}

/**
 * `KL(U ‖ s) = Σ_i (1/E) · ln((1/E) / s_i)` with `s_i = (m_i + ε) / (Σ_j m_j + E·ε)` and `m = mean_x G̃(x)`
 * `[E]`: the divergence of the normalised mean sparse gate from uniform. `ε` keeps the value finite when
 * an expert gets no gate mass (then `s_i ≈ ε / Σ m`); it is negligible once every expert has a token.
 */
function klUniformOfMeanGates(gates: tf.Tensor2D, epsilon: number): tf.Scalar {
  return tf.tidy(() => {
    const E = gates.shape[1];
    const mean = tf.add(tf.mean(gates, 0), epsilon); // [E] m + ε
    const share = tf.div(mean, tf.sum(mean)); // [E] s
    return tf.mul(1 / E, tf.sum(tf.sub(Math.log(1 / E), tf.log(share)))) as tf.Scalar;
  });
}

/**
 * Pavlitska et al. 2022 (arXiv:2204.10598, §3.3) soft constraint on expert utilisation: adds
 * `weight · L(G̃)` to the wrapped router's aux loss in training, where `G̃` are the sparse gates of what
 * is dispatched — each token's clean softmax value at its noise-free top-k experts, 0 elsewhere
 * ({@link sparseCleanGates}) — and `L` is the importance loss `CV(Σ_x G̃(x))²` (Shazeer et al. 2017,
 * arXiv:1701.06538, Eqs. 6–7, whose importance is over the sparse gates) or `KL(U ‖ s)` with `s` the
 * normalised mean of `G̃` plus `ε`. Balancing the full softmax instead is satisfied by near-uniform
 * probabilities while every image goes to the same expert; and the noise-free choice is the one
 * evaluation makes, so balancing it balances the evaluation load. The loss is switched off once the
 * epoch reaches `liftAfterEpoch`, so experts may specialise freely after the balanced start. The parts
 * are reported as `auxLosses.softConstraint` (unweighted).
 *
 * @example
 * ```ts
 * import { SoftConstraintRouter } from '@moekit/experts-conv';
 * import { TopKRouter } from '@moekit/router-topk';
 *
 * const router = new SoftConstraintRouter({ router: new TopKRouter({ numExperts: 4, k: 2, noise: 'shazeer' }), loss: 'klUniform', weight: 0.1 });
 * router.setEpoch(epoch); // each epoch, when liftAfterEpoch is set
 * ```
 */
export class SoftConstraintRouter extends RouterWrapper<SoftConstraintRouterArgs, Required<Omit<SoftConstraintRouterArgs, 'liftAfterEpoch'>> & Pick<SoftConstraintRouterArgs, 'liftAfterEpoch'>> {
  /** Name under which the class is registered for (de)serialisation. */
  static readonly className = 'SoftConstraintRouter';
  /** The arguments: the wrapped router, defaults and checks (`liftAfterEpoch` unset: never lifted). */
  static readonly argsTable: ArgsTable<SoftConstraintRouterArgs> = {
    router: wrappedRouterArg,
    loss: arg.oneOf<SoftConstraintLoss>(['importance', 'klUniform'], { default: 'klUniform' }),
    weight: arg.number({ min: 0, default: 0.1 }),
    liftAfterEpoch: arg.integer({ min: 0, optional: true }),
    epsilon: arg.number({ above: 0, default: 1e-6 }),
  };
  private epoch = 0;

  /** The loss. */
  get loss(): SoftConstraintLoss {
    return this.config.loss;
  }

  /** Its weight. */
  get weight(): number {
    return this.config.weight;
  }

  /** The epoch from which the loss is lifted (`Infinity`: never). */
  get liftAfterEpoch(): number {
    return this.config.liftAfterEpoch ?? Infinity;
  }

  /** `ε` of `'klUniform'`. */
  get epsilon(): number {
    return this.config.epsilon;
  }

  /** True while the loss is added (the current epoch is before `liftAfterEpoch`). */
  get active(): boolean {
    return this.epoch < this.liftAfterEpoch;
  }

  /** Tells the router the current epoch (0-based); from `liftAfterEpoch` on, the loss is lifted. */
  setEpoch(epoch: number): void {
    checkInteger('SoftConstraintRouter.setEpoch', 'epoch', epoch, 0);
    this.epoch = epoch;
  }

  /** Routes with the wrapped router and, in training while active, adds the weighted constraint loss. */
  route(gateInput: tf.Tensor2D, options: RouteOptions): RouterOutput {
    this.assertLive('SoftConstraintRouter.route');
    const out = this.router.route(gateInput, options);
    if (!options.training || !this.active) return out;
    const softConstraint = tf.tidy(() => {
      const gates = sparseCleanGates(out.logits, this.k); // [T, E] G̃: what the noise-free router dispatches
      return this.loss === 'importance' ? importanceLoss(gates) : klUniformOfMeanGates(gates, this.epsilon);
    });
    const total = tf.tidy(() => tf.add(out.auxLosses.total, tf.mul(this.weight, softConstraint)) as tf.Scalar);
    out.auxLosses.total.dispose();
    return { ...out, auxLosses: { ...out.auxLosses, total, softConstraint } };
  }
}
