import * as tf from '@tensorflow/tfjs-core';
import { checkInteger, checkNonNegative, checkOneOf, loadBalancingLoss, rejectUnknownOptions, SeedStream } from '@moekit/core';
import { checkAdvMoEModel, type AdvMoEModel } from './adv-moe-model.js';
import { parameterGroupStep } from './parameter-group-step.js';
import { routerAgreement } from './router-agreement.js';
import { crossEntropyObjective, tradesObjective } from './attack-objective.js';
import { checkInputRange } from './check-input-range.js';
import { crossEntropy } from './cross-entropy.js';
import { checkLabelledImages, epochOrder, takeBatch, type LabelledImages } from './labelled-images.js';
import { pgd } from './pgd.js';
import { resolveTrainingAttack, type TrainingAttackArgs } from './training-attack.js';
import { tradesLoss } from './trades-loss.js';

/** The loss of standard adversarial training. */
export type AdversarialLoss = 'crossEntropy' | 'trades';

/** Configuration of {@link adversarialTrain}. */
export interface AdversarialTrainArgs {
  /** The PGD attack that generates the training examples. */
  attack: TrainingAttackArgs;
  /** `'crossEntropy'` (Madry et al. 2018: PGD on the CE, loss `CE(f(x'), y)`) or `'trades'` (Zhang et al. 2019: PGD on `KL(f(x) ‖ f(x'))`, loss TRADES). Default `'crossEntropy'`. */
  loss?: AdversarialLoss;
  /** TRADES weight `β` (with `loss: 'trades'`). Default 6. */
  beta?: number;
  /** Passes over the data. Default 1. */
  epochs?: number;
  /** Images per batch. Default 64. */
  batchSize?: number;
  /** The one optimiser over all variables (router, experts, backbone). Default Adam at `learningRate` (created and disposed here). */
  optimizer?: tf.Optimizer;
  /** Learning rate of the default optimiser. Default 1e-3. */
  learningRate?: number;
  /**
   * Weight `w` of Switch's load-balancing term `E · Σ_i f_i · P_i` (Fedus et al. 2021, Eq. 4) on the
   * clean batch's router scores, added to the loss: `f_i` the fraction of images routed to expert `i`,
   * `P_i` their mean router probability. Default 0 (off; neither AdvMoE nor its code balances).
   */
  routerBalanceWeight?: number;
  /** Coupled L2 weight decay `λ`: each gradient becomes `g + λ·w` (PyTorch SGD's `weight_decay`; AdvMoE's code uses 5e-4). Default 0. */
  weightDecay?: number;
  /** Shuffle the images every epoch. Default `true`. */
  shuffle?: boolean;
  /** Seed of the shuffles and of the attacks' random starts. Default 0. */
  seed?: number;
  /** Called after every batch with its metrics. */
  onStep?: (metrics: AdversarialStepMetrics) => void;
}

/** What one batch of {@link adversarialTrain} measured. */
export interface AdversarialStepMetrics {
  /** Epoch, from 0. */
  epoch: number;
  /** Batch within the epoch, from 0. */
  batch: number;
  /** Batches done so far, from 1. */
  step: number;
  /** Batches in the whole run. */
  totalSteps: number;
  /** The training loss before the update (`CE(f(x'), y)` or the TRADES total). */
  loss: number;
  /** `CE(f(x), y)` on the clean batch before the update. */
  cleanLoss: number;
  /** `CE(f(x'), y)` (cross-entropy) or `KL(f(x) ‖ f(x'))` (TRADES) before the update. */
  robustLoss: number;
  /** Fraction of the batch whose expert choice on `x'` equals the choice on `x`. */
  routerAgreement: number;
}

/** What {@link adversarialTrain} returns. */
export interface AdversarialTrainResult {
  /** Every batch's metrics, in order. */
  history: AdversarialStepMetrics[];
  /** Wall-clock seconds of the run. */
  seconds: number;
}

/**
 * Standard adversarial training of an MoE classifier, the baseline AdvMoE improves on (Zhang et al.
 * 2023, Sec. 3): per batch, PGD examples against the whole model, then one step of one optimiser over
 * all variables, router and experts together. With `loss: 'crossEntropy'` it is Madry et al. 2018's
 * PGD-AT, `min_θ E max_{x' ∈ B∞(x, ε)} CE(f(x'), y)` (Eq. 2.1); with `'trades'` it is TRADES
 * (Zhang et al. 2019, Eq. 5).
 *
 * @example
 * ```ts
 * import { adversarialTrain } from '@moekit/adversarial';
 *
 * adversarialTrain(model, { images, labels }, { attack: { epsilon: 0.1, steps: 5 }, epochs: 2, learningRate: 3e-3 });
 * ```
 */
export function adversarialTrain(model: AdvMoEModel, data: LabelledImages, args: AdversarialTrainArgs): AdversarialTrainResult {
  const where = 'adversarialTrain';
  rejectUnknownOptions(where, args, ['attack', 'loss', 'beta', 'epochs', 'batchSize', 'optimizer', 'learningRate', 'routerBalanceWeight', 'weightDecay', 'shuffle', 'seed', 'onStep']);
  checkAdvMoEModel(where, model, true); // a dense model (no router) is the baseline's trivial case
  checkLabelledImages(where, data);
  const attack = resolveTrainingAttack(where, args.attack);
  checkInputRange(where, 'data.images', data.images, attack.clipMin, attack.clipMax);
  const lossKind = args.loss ?? 'crossEntropy';
  checkOneOf(where, 'loss', lossKind, ['crossEntropy', 'trades']);
  const beta = args.beta ?? 6;
  const epochs = args.epochs ?? 1;
  const batchSize = args.batchSize ?? 64;
  const learningRate = args.learningRate ?? 1e-3;
  const seed = args.seed ?? 0;
  const weightDecay = args.weightDecay ?? 0;
  const balanceWeight = args.routerBalanceWeight ?? 0;
  checkNonNegative(where, 'weightDecay', weightDecay);
  checkNonNegative(where, 'routerBalanceWeight', balanceWeight);
  checkNonNegative(where, 'beta', beta);
  checkNonNegative(where, 'learningRate', learningRate);
  checkInteger(where, 'epochs', epochs, 1);
  checkInteger(where, 'batchSize', batchSize, 1);
  checkInteger(where, 'seed', seed, 0);
  const optimizer = args.optimizer ?? tf.train.adam(learningRate);
  const variables = [...model.expertVariables, ...model.routerVariables];
  const seeds = new SeedStream(seed);
  const n = data.images.shape[0]!;
  const batchesPerEpoch = Math.ceil(n / batchSize);
  const totalSteps = epochs * batchesPerEpoch;
  const history: AdversarialStepMetrics[] = [];
  const t0 = performance.now();
  try {
    for (let epoch = 0; epoch < epochs; epoch++) {
      const order = epochOrder(n, args.shuffle ?? true, seed + epoch);
      for (let batch = 0; batch < batchesPerEpoch; batch++) {
        const { images: x, labels: y } = takeBatch(data, order.subarray(batch * batchSize, Math.min(n, (batch + 1) * batchSize)));
        let xAdv: tf.Tensor;
        if (lossKind === 'crossEntropy') {
          xAdv = pgd(crossEntropyObjective(model, y), x, { ...attack, seed: seeds.next() }); // Madry Eq. 2.2, inner max of Eq. 2.1
        } else {
          const cleanLogits = tf.tidy(() => model.forward(x, false).logits);
          xAdv = pgd(tradesObjective(model, cleanLogits), x, { ...attack, seed: seeds.next() }); // TRADES inner max
          cleanLogits.dispose();
        }
        const step = parameterGroupStep(variables, optimizer, () => {
          const clean = model.forward(x, true);
          const adv = model.forward(xAdv, true);
          const agree = routerAgreement(clean.expertIndex, adv.expertIndex);
          const balance = (loss: tf.Scalar) => balanceWeight === 0 ? loss : tf.add(loss, tf.mul(balanceWeight, switchBalance(clean.routerScores, clean.expertIndex))) as tf.Scalar;
          if (lossKind === 'trades') {
            const t = tradesLoss({ cleanLogits: clean.logits, adversarialLogits: adv.logits, labels: y, beta });
            return { loss: balance(t.total), parts: [t.natural, t.robust, agree] };
          }
          const robust = crossEntropy(adv.logits, y); // Madry Eq. 2.1
          return { loss: balance(robust), parts: [crossEntropy(clean.logits, y), robust, agree] };
        }, weightDecay);
        tf.dispose([x, y, xAdv]);
        const [cleanLoss, robustLoss, agreementPart] = step.parts;
        const metrics: AdversarialStepMetrics = { epoch, batch, step: history.length + 1, totalSteps, loss: step.loss, cleanLoss: cleanLoss!, robustLoss: robustLoss!, routerAgreement: agreementPart! };
        history.push(metrics);
        args.onStep?.(metrics);
      }
    }
  } finally {
    if (args.optimizer === undefined) optimizer.dispose();
  }
  return { history, seconds: (performance.now() - t0) / 1000 };
}

/** Switch's `E · Σ_i f_i · P_i` (Fedus et al. 2021, Eq. 4) of one image-level top-1 choice: `scores` `[B, E]`, `expertIndex` `[B]`. */
function switchBalance(scores: tf.Tensor2D, expertIndex: tf.Tensor1D): tf.Scalar {
  const E = scores.shape[1]!;
  return loadBalancingLoss(tf.softmax(scores) as tf.Tensor2D, tf.reshape(expertIndex, [-1, 1]) as tf.Tensor2D, E);
}
