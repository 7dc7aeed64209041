import * as tf from '@tensorflow/tfjs-core';
import { checkNonNegative } from '@moekit/core';
import type { AdvMoEModel } from './adv-moe-model.js';
import { crossEntropy } from './cross-entropy.js';
import { softmaxKlDivergence } from './softmax-kl-divergence.js';

/** A scalar function of the images that an attack maximises: `[B, H, W, C]` → scalar. */
export type AttackObjective = (images: tf.Tensor) => tf.Scalar;

/** Anything with a forward pass: the part of an {@link AdvMoEModel} the objectives read. */
export type ForwardModel = Pick<AdvMoEModel, 'forward'>;

/**
 * The model's loss as an attack objective: `L(x') = CE(f(x'), y)` (FGSM, Goodfellow et al. 2015;
 * PGD, Madry et al. 2018, Eq. 2.1). The forward pass runs with `training: false`.
 *
 * @example
 * ```ts
 * import { crossEntropyObjective, pgd } from '@moekit/adversarial';
 *
 * const xAdv = pgd(crossEntropyObjective(model, labels), images, { epsilon: 0.1, steps: 10 });
 * ```
 */
export function crossEntropyObjective(model: ForwardModel, labels: tf.Tensor1D): AttackObjective {
  return (images) => tf.tidy(() => crossEntropy(model.forward(images, false).logits, labels));
}

/**
 * The router's output as an attack objective: `L(x') = KL(softmax r(x) ‖ softmax r(x'))` with `r` the
 * router scores and `cleanRouterScores` `[B, E]` = `r(x)` held fixed, so the attack pushes the expert
 * choice away from the clean one (AdvMoE's router attack, Zhang et al. 2023, Sec. 4).
 *
 * @example
 * ```ts
 * import { pgd, routerObjective } from '@moekit/adversarial';
 *
 * const xAdv = pgd(routerObjective(model, clean.routerScores), images, { epsilon: 0.1 });
 * ```
 */
export function routerObjective(model: ForwardModel, cleanRouterScores: tf.Tensor): AttackObjective {
  return (images) => tf.tidy(() => softmaxKlDivergence(cleanRouterScores, model.forward(images, false).routerScores));
}

/**
 * AdvMoE's attack on the whole model and its router at once: `L(x') = KL(f(x) ‖ f(x')) + w · KL(r(x) ‖
 * r(x'))`, the TRADES inner maximisation (Zhang et al. 2019, Eq. 5) plus the router's KL, as the AdvMoE
 * reference code (OPTML-Group/Robust-MoE-CNN, `train_moe.py`) generates both steps' examples with `w = 1`.
 * `cleanLogits` `[B, C]` and `cleanRouterScores` `[B, E]` are the clean outputs, held fixed.
 *
 * @example
 * ```ts
 * import { pgd, tradesObjective } from '@moekit/adversarial';
 *
 * const xAdv = pgd(tradesObjective(model, clean.logits, clean.routerScores), images, { epsilon: 0.1, steps: 5 });
 * ```
 */
export function tradesObjective(model: ForwardModel, cleanLogits: tf.Tensor, cleanRouterScores?: tf.Tensor, routerWeight = 1): AttackObjective {
  checkNonNegative('tradesObjective', 'routerWeight', routerWeight);
  return (images) => tf.tidy(() => {
    const out = model.forward(images, false);
    const modelKl = softmaxKlDivergence(cleanLogits, out.logits);
    if (cleanRouterScores === undefined || routerWeight === 0) return modelKl;
    return tf.add(modelKl, tf.mul(routerWeight, softmaxKlDivergence(cleanRouterScores, out.routerScores))) as tf.Scalar;
  });
}
