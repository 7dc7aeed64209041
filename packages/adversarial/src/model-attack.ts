import type * as tf from '@tensorflow/tfjs-core';
import type { AdvMoEModel } from './adv-moe-model.js';
import { crossEntropyObjective } from './attack-objective.js';
import { fgsm, type FgsmArgs } from './fgsm.js';
import { pgd, type PgdArgs } from './pgd.js';

/** An attack on a model: clean images `[B, H, W, C]` and labels `[B]` → adversarial images (the caller owns them). */
export type ModelAttack = (model: AdvMoEModel, images: tf.Tensor, labels: tf.Tensor1D) => tf.Tensor;

/**
 * PGD on the model's cross-entropy (Madry et al. 2018, Eq. 2.2) as a {@link ModelAttack}, the attack
 * {@link robustEvaluate} and standard adversarial training use.
 *
 * @example
 * ```ts
 * import { pgdAttack, robustEvaluate } from '@moekit/adversarial';
 *
 * const report = robustEvaluate(model, test, pgdAttack({ epsilon: 0.1, steps: 10 }));
 * ```
 */
export function pgdAttack(args: PgdArgs): ModelAttack {
  return (model, images, labels) => pgd(crossEntropyObjective(model, labels), images, args);
}

/**
 * FGSM on the model's cross-entropy (Goodfellow et al. 2015, Eq. 3) as a {@link ModelAttack}.
 *
 * @example
 * ```ts
 * import { fgsmAttack, robustEvaluate } from '@moekit/adversarial';
 *
 * const report = robustEvaluate(model, test, fgsmAttack({ epsilon: 0.1 }));
 * ```
 */
export function fgsmAttack(args: FgsmArgs): ModelAttack {
  return (model, images, labels) => fgsm(crossEntropyObjective(model, labels), images, args);
}
