import * as tf from '@tensorflow/tfjs-core';
import { checkInteger, checkNonNegative, checkOneOf, rejectUnknownOptions, SeedStream } from '@moekit/core';
import { checkAdvMoEModel, type AdvMoEModel } from './adv-moe-model.js';
import { parameterGroupStep } from './parameter-group-step.js';
import { routerAgreement } from './router-agreement.js';
import { tradesObjective } from './attack-objective.js';
import { checkInputRange } from './check-input-range.js';
import { checkLabelledImages, epochOrder, takeBatch, type LabelledImages } from './labelled-images.js';
import { pgd, type PgdArgs } from './pgd.js';
import { crossEntropy } from './cross-entropy.js';
import { softmaxKlDivergence } from './softmax-kl-divergence.js';
import { resolveTrainingAttack, type TrainingAttackArgs } from './training-attack.js';
import { tradesLoss } from './trades-loss.js';

/** Configuration of {@link advMoETrain}. */
export interface AdvMoETrainArgs {
  /** The PGD attack both steps generate their adversarial examples with. */
  attack: TrainingAttackArgs;
  /** Passes over the data. Default 1. */
  epochs?: number;
  /** Images per batch. Default 64. */
  batchSize?: number;
  /** TRADES weight `β` of the robust KL term in both steps. Default 6 (TRADES' and AdvMoE's). */
  beta?: number;
  /**
   * The router step's loss. `'trades'` (ours, the paper's Eq. 4 read literally): TRADES of the whole
   * model through the router's estimator, `CE(f(x), y) + β·KL(f(x) ‖ f(x'_R)) + α·KL(r(x) ‖ r(x'_R)) +
   * γ·CE(r(x), y mod E)`. `'reference'` (the authors' code, OPTML-Group/Robust-MoE-CNN `train_moe.py`
   * at c50796f, `trainer`, second half): the router's scores only, `γ·CE(r(x), y mod E) + α·KL(r(x) ‖
   * r(x'_R))`, with `γ` = `--alpha` = 6 and `α` = `--beta` = 6 there. Default `'trades'`.
   */
  routerLoss?: AdvMoERouterLoss;
  /** Weight `w` of the router's KL in the attack objective `KL(f(x) ‖ f(x')) + w · KL(r(x) ‖ r(x'))`. Default 1 (AdvMoE's code). */
  routerAttackWeight?: number;
  /** Weight `α` of the router-consistency term `KL(r(x) ‖ r(x'_R))` in the router step's loss. Default 1 (`'trades'`), 6 (`'reference'`: the code's `--beta`). */
  routerConsistencyWeight?: number;
  /**
   * Weight `γ` of the routing supervision `CE(r(x), y mod E)` in the router step's loss: the AdvMoE
   * reference code's router loss term, which pulls each class towards one expert. Default 0 (off) with
   * `'trades'`, 6 with `'reference'` (the code's `--alpha`).
   */
  routerLabelWeight?: number;
  /** Coupled L2 weight decay `λ` of both steps: each gradient becomes `g + λ·w` (PyTorch SGD's `weight_decay`; the reference code uses 5e-4). Default 0. */
  weightDecay?: number;
  /** Optimiser of the expert step, over `model.expertVariables` only. Default Adam at `expertLearningRate` (created and disposed here). */
  expertOptimizer?: tf.Optimizer;
  /** Optimiser of the router step, over `model.routerVariables` only. Default Adam at `routerLearningRate` (created and disposed here). */
  routerOptimizer?: tf.Optimizer;
  /** Learning rate of the default expert optimiser. Default 1e-3. */
  expertLearningRate?: number;
  /** Learning rate of the default router optimiser. Default 1e-3. */
  routerLearningRate?: number;
  /** Shuffle the images every epoch. Default `true`. */
  shuffle?: boolean;
  /** Seed of the shuffles and of the attacks' random starts. Default 0. */
  seed?: number;
  /** Called after every batch with its metrics (progress: `step` of `totalSteps`). */
  onStep?: (metrics: AdvMoEStepMetrics) => void;
}

/** The router step's loss of {@link advMoETrain}: ours (TRADES through the estimator) or the reference code's (router scores only). */
export type AdvMoERouterLoss = 'trades' | 'reference';

/** What one batch of {@link advMoETrain} measured (numbers read back from the device). */
export interface AdvMoEStepMetrics {
  /** Epoch, from 0. */
  epoch: number;
  /** Batch within the epoch, from 0. */
  batch: number;
  /** Batches done so far, from 1. */
  step: number;
  /** Batches in the whole run. */
  totalSteps: number;
  /** Expert step: clean cross-entropy `CE(f(x), y)` before the update. */
  cleanLoss: number;
  /** Expert step: robust term `KL(f(x) ‖ f(x'))` before the update (unweighted). */
  robustLoss: number;
  /** Expert step: the TRADES total `cleanLoss + β · robustLoss`. */
  expertLoss: number;
  /** Router step: its loss (`routerLoss`) on fresh adversarial examples, before the router update. */
  routerLoss: number;
  /** Expert step: fraction of the batch whose expert choice on `x'` equals the choice on `x`. */
  routerAgreement: number;
  /** Router step: the same fraction on its fresh adversarial examples, against the updated experts. */
  routerStepAgreement: number;
}

/** What {@link advMoETrain} returns. */
export interface AdvMoETrainResult {
  /** Every batch's metrics, in order. */
  history: AdvMoEStepMetrics[];
  /** Wall-clock seconds of the run. */
  seconds: number;
}

/**
 * AdvMoE, router-expert alternating adversarial training (Zhang et al. 2023, "Robust Mixture-of-Expert
 * Training for Convolutional Neural Networks", arXiv:2308.10110, Sec. 4: the bi-level problem over the
 * router `θ_R` and the experts `θ_E`, solved by alternating optimisation). Per batch `(x, y)`, following
 * the authors' `train_moe.py` (OPTML-Group/Robust-MoE-CNN):
 *
 * 1. Expert step, router fixed: `x'_E = PGD_{B∞(x, ε)}(KL(f(x) ‖ f(x')) + w · KL(r(x) ‖ r(x')))`, then one
 *    step of the expert optimiser over `θ_E` only on TRADES (Zhang et al. 2019, Eq. 5):
 *    `CE(f(x), y) + β · KL(f(x) ‖ f(x'_E))`.
 * 2. Router step, experts fixed: fresh `x'_R` by the same attack against the updated model, then one
 *    step of the router optimiser over `θ_R` only. With `routerLoss: 'trades'` (default) on
 *    `CE(f(x), y) + β · KL(f(x) ‖ f(x'_R)) + α · KL(r(x) ‖ r(x'_R)) + γ · CE(r(x), y mod E)` (the
 *    router's robust loss through the estimator; the last term, off by default, is the reference code's
 *    routing supervision). With `routerLoss: 'reference'` on the reference code's
 *    `γ · CE(r(x), y mod E) + α · KL(r(x) ‖ r(x'_R))` (`train_moe.py` at c50796f: `args.alpha *
 *    criterion(scores, target % args.n_expert) + args.beta * KL(...)`, α = β = 6), which reads only the
 *    router's scores: the experts' output does not enter the router's update.
 *
 * `f` are the logits and `r` the router scores of `model.forward`; the router learns through the model's
 * estimator (e.g. the straight-through one of `ImageRouter`). PGD starts from `x + U(−ε, ε)` (the
 * reference code uses `x + 0.001·N(0, 1)`). Each parameter group has its own optimiser, so neither step
 * changes the other group's variables.
 *
 * @example
 * ```ts
 * import { advMoETrain } from '@moekit/adversarial';
 *
 * const { history } = advMoETrain(model, { images, labels }, {
 *   attack: { epsilon: 0.1, steps: 5 }, epochs: 2, batchSize: 50, expertLearningRate: 3e-3, routerLearningRate: 1e-3,
 *   onStep: (m) => console.log(m.step, m.expertLoss, m.routerAgreement),
 * });
 * ```
 */
export function advMoETrain(model: AdvMoEModel, data: LabelledImages, args: AdvMoETrainArgs): AdvMoETrainResult {
  const where = 'advMoETrain';
  rejectUnknownOptions(where, args, ['attack', 'epochs', 'batchSize', 'beta', 'routerLoss', 'routerAttackWeight', 'routerConsistencyWeight', 'routerLabelWeight', 'weightDecay', 'expertOptimizer', 'routerOptimizer', 'expertLearningRate', 'routerLearningRate', 'shuffle', 'seed', 'onStep']);
  checkAdvMoEModel(where, model);
  checkLabelledImages(where, data);
  const attack = resolveTrainingAttack(where, args.attack);
  checkInputRange(where, 'data.images', data.images, attack.clipMin, attack.clipMax);
  const epochs = args.epochs ?? 1;
  const batchSize = args.batchSize ?? 64;
  const beta = args.beta ?? 6;
  const routerLoss = args.routerLoss ?? 'trades';
  checkOneOf(where, 'routerLoss', routerLoss, ['trades', 'reference']);
  const reference = routerLoss === 'reference';
  const routerAttackWeight = args.routerAttackWeight ?? 1;
  const alpha = args.routerConsistencyWeight ?? (reference ? 6 : 1);
  const gamma = args.routerLabelWeight ?? (reference ? 6 : 0);
  const weightDecay = args.weightDecay ?? 0;
  const expertLearningRate = args.expertLearningRate ?? 1e-3;
  const routerLearningRate = args.routerLearningRate ?? 1e-3;
  const seed = args.seed ?? 0;
  checkInteger(where, 'epochs', epochs, 1);
  checkInteger(where, 'batchSize', batchSize, 1);
  checkInteger(where, 'seed', seed, 0);
  for (const [name, value] of [['beta', beta], ['routerAttackWeight', routerAttackWeight], ['routerConsistencyWeight', alpha], ['routerLabelWeight', gamma], ['weightDecay', weightDecay], ['expertLearningRate', expertLearningRate], ['routerLearningRate', routerLearningRate]] as const) {
    checkNonNegative(where, name, value);
  }
  const expertOptimizer = args.expertOptimizer ?? tf.train.adam(expertLearningRate);
  const routerOptimizer = args.routerOptimizer ?? tf.train.adam(routerLearningRate);
  const seeds = new SeedStream(seed);
  const n = data.images.shape[0]!;
  const batchesPerEpoch = Math.ceil(n / batchSize);
  const totalSteps = epochs * batchesPerEpoch;
  const history: AdvMoEStepMetrics[] = [];
  const t0 = performance.now();
  try {
    for (let epoch = 0; epoch < epochs; epoch++) {
      const order = epochOrder(n, args.shuffle ?? true, seed + epoch);
      for (let batch = 0; batch < batchesPerEpoch; batch++) {
        const { images: x, labels: y } = takeBatch(data, order.subarray(batch * batchSize, Math.min(n, (batch + 1) * batchSize)));
        // 1. Expert step: adversarial examples against model and router, TRADES over θ_E only.
        const xE = attackBoth(model, x, attack, routerAttackWeight, seeds.next());
        const expert = parameterGroupStep(model.expertVariables, expertOptimizer, () => {
          const clean = model.forward(x, true);
          const adv = model.forward(xE, true);
          const loss = tradesLoss({ cleanLogits: clean.logits, adversarialLogits: adv.logits, labels: y, beta }); // TRADES Eq. 5
          return { loss: loss.total, parts: [loss.natural, loss.robust, routerAgreement(clean.expertIndex, adv.expertIndex)] };
        }, weightDecay);
        // 2. Router step: fresh adversarial examples against the updated experts, router loss over θ_R only.
        const xR = attackBoth(model, x, attack, routerAttackWeight, seeds.next());
        const router = parameterGroupStep(model.routerVariables, routerOptimizer, () => {
          const clean = model.forward(x, true);
          const adv = model.forward(xR, true);
          const consistency = softmaxKlDivergence(clean.routerScores, adv.routerScores); // KL(r(x) ‖ r(x'_R))
          let loss = tf.mul(alpha, consistency) as tf.Scalar;
          if (!reference) loss = tf.add(loss, tradesLoss({ cleanLogits: clean.logits, adversarialLogits: adv.logits, labels: y, beta }).total) as tf.Scalar;
          if (gamma > 0) loss = tf.add(loss, tf.mul(gamma, routingSupervision(clean.routerScores, y))) as tf.Scalar;
          return { loss, parts: [routerAgreement(clean.expertIndex, adv.expertIndex)] };
        }, weightDecay);
        tf.dispose([x, y, xE, xR]);
        const [cleanLoss, robustLoss, expertStepAgreement] = expert.parts;
        const metrics: AdvMoEStepMetrics = {
          epoch, batch, step: history.length + 1, totalSteps,
          cleanLoss: cleanLoss!, robustLoss: robustLoss!, expertLoss: expert.loss,
          routerLoss: router.loss, routerAgreement: expertStepAgreement!, routerStepAgreement: router.parts[0]!,
        };
        history.push(metrics);
        args.onStep?.(metrics);
      }
    }
  } finally {
    if (args.expertOptimizer === undefined) expertOptimizer.dispose();
    if (args.routerOptimizer === undefined) routerOptimizer.dispose();
  }
  return { history, seconds: (performance.now() - t0) / 1000 };
}

/**
 * The reference code's routing supervision `CE(r(x), y mod E)` (`train_moe.py`: `criterion(scores,
 * target % args.n_expert)`): class `y` is sent to expert `y mod E`. `scores` `[B, E]`, `labels` `[B]`.
 */
function routingSupervision(scores: tf.Tensor2D, labels: tf.Tensor1D): tf.Scalar {
  const E = scores.shape[1]!;
  const expertLabels = tf.sub(labels, tf.mul(tf.floorDiv(labels, E), E)) as tf.Tensor1D; // [B] y mod E, as y − E·⌊y/E⌋
  return crossEntropy(scores, expertLabels);
}

/** PGD against model and router from the clean outputs (AdvMoE's attack); the caller owns the result. */
function attackBoth(model: AdvMoEModel, x: tf.Tensor, attack: Required<Omit<PgdArgs, 'seed'>>, routerWeight: number, seed: number | undefined): tf.Tensor {
  const clean = tf.tidy(() => {
    const out = model.forward(x, false);
    return { logits: out.logits, routerScores: out.routerScores };
  });
  try {
    return pgd(tradesObjective(model, clean.logits, clean.routerScores, routerWeight), x, { ...attack, seed });
  } finally {
    tf.dispose([clean.logits, clean.routerScores]);
  }
}
