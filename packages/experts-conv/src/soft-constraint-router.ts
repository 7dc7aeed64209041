import * as tf from '@tensorflow/tfjs-core';
import { checkFiniteNumber, checkInteger, checkOneOf, importanceLoss, klToUniformLoss, MoEArgumentError, rejectUnknownOptions, type RouteOptions, RouterWrapper, type Router, type RouterOutput } from '@moekit/core';

/** Which soft utilisation constraint: Shazeer's importance CV² or the KL divergence from uniform. */
export type SoftConstraintLoss = 'importance' | 'klUniform';

/** Configuration of a {@link SoftConstraintRouter}. */
export interface SoftConstraintRouterArgs {
  /** The router to constrain. */
  router: Router;
  /** The loss. Default `'importance'`. */
  loss?: SoftConstraintLoss;
  /** Its weight in `auxLosses.total`. Default 0.1. */
  weight?: number;
  /** From this epoch on ({@link SoftConstraintRouter.setEpoch}) the loss is no longer added. Default: never lifted. */
  liftAfterEpoch?: number;
}

/**
 * Pavlitska et al. 2022 (arXiv:2204.10598, §3.3) soft constraint on expert utilisation: adds
 * `weight · L(G)` to the wrapped router's aux loss in training, with `L` the importance loss
 * `CV(Σ_x G(x))²` (Shazeer et al. 2017, Eqs. 6–7) or `KL(U ‖ mean_x G(x))` ({@link klToUniformLoss}),
 * over the clean gates `G = softmax(logits)` (as `TopKRouter`'s own importance term: training noise
 * would otherwise make a router whose noise-free choice always falls on one expert look balanced);
 * switched off once the epoch reaches `liftAfterEpoch`, so experts may specialise freely after the
 * balanced start. The parts are reported as `auxLosses.softConstraint` (unweighted).
 *
 * @example
 * ```ts
 * const router = new SoftConstraintRouter({ router: new TopKRouter({ numExperts: 4, k: 1, noise: 'shazeer' }), loss: 'klUniform', liftAfterEpoch: 5 });
 * router.setEpoch(epoch); // each epoch
 * ```
 */
export class SoftConstraintRouter extends RouterWrapper {
  /** The loss. */
  readonly loss: SoftConstraintLoss;
  /** Its weight. */
  readonly weight: number;
  /** The epoch from which the loss is lifted (`Infinity`: never). */
  readonly liftAfterEpoch: number;
  private epoch = 0;

  /** Validates the arguments (unknown options rejected by name). */
  constructor(args: SoftConstraintRouterArgs) {
    const where = 'SoftConstraintRouter';
    rejectUnknownOptions(where, args, ['router', 'loss', 'weight', 'liftAfterEpoch']);
    if (args.router === undefined) throw new MoEArgumentError(where, 'router', 'a Router', 'undefined');
    super(args.router);
    this.loss = args.loss ?? 'importance';
    this.weight = args.weight ?? 0.1;
    this.liftAfterEpoch = args.liftAfterEpoch ?? Infinity;
    checkOneOf(where, 'loss', this.loss, ['importance', 'klUniform']);
    checkFiniteNumber(where, 'weight', this.weight);
    if (this.weight < 0) throw new MoEArgumentError(where, 'weight', 'a number ≥ 0', String(this.weight));
    if (this.liftAfterEpoch !== Infinity) checkInteger(where, 'liftAfterEpoch', this.liftAfterEpoch, 0);
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
    const out = this.router.route(gateInput, options);
    if (!options.training || !this.active) return out;
    const softConstraint = tf.tidy(() => {
      const gates = tf.softmax(out.logits) as tf.Tensor2D; // [T, E] the clean gates: noise neither hides nor fakes an imbalance
      return this.loss === 'importance' ? importanceLoss(gates) : klToUniformLoss(gates);
    });
    const total = tf.tidy(() => tf.add(out.auxLosses.total, tf.mul(this.weight, softConstraint)) as tf.Scalar);
    out.auxLosses.total.dispose();
    return { ...out, auxLosses: { ...out.auxLosses, total, softConstraint } };
  }
}
