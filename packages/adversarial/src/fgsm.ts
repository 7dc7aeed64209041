import * as tf from '@tensorflow/tfjs-core';
import { checkNonNegative, rejectUnknownOptions } from '@moekit/core';
import type { AttackObjective } from './attack-objective.js';
import { checkInputRange, checkRange } from './check-input-range.js';

/** Configuration of {@link fgsm}. */
export interface FgsmArgs {
  /** L∞ radius `ε ≥ 0` of the perturbation, in input units. */
  epsilon: number;
  /** Lower end of the valid input range. Default 0. */
  clipMin?: number;
  /** Upper end of the valid input range. Default 1. */
  clipMax?: number;
}

/**
 * The fast gradient sign method (Goodfellow et al. 2015, "Explaining and Harnessing Adversarial
 * Examples", Eq. 3): `x' = clip_[lo, hi](x + ε · sign(∇_x L(x)))`, one step up the objective. `images`
 * must lie in `[clipMin, clipMax]`. Returns a new tensor the caller owns; `images` is not changed.
 *
 * @example
 * ```ts
 * import { crossEntropyObjective, fgsm } from '@moekit/adversarial';
 *
 * const xAdv = fgsm(crossEntropyObjective(model, labels), images, { epsilon: 0.1 });
 * ```
 */
export function fgsm(objective: AttackObjective, images: tf.Tensor, args: FgsmArgs): tf.Tensor {
  const where = 'fgsm';
  rejectUnknownOptions(where, args, ['epsilon', 'clipMin', 'clipMax']);
  checkNonNegative(where, 'epsilon', args.epsilon);
  const clipMin = args.clipMin ?? 0;
  const clipMax = args.clipMax ?? 1;
  checkRange(where, clipMin, clipMax);
  checkInputRange(where, 'images', images, clipMin, clipMax);
  return tf.tidy(() => {
    const gradient = tf.grad(objective)(images); // ∇_x L, shape of images
    const stepped = tf.add(images, tf.mul(tf.sign(gradient), args.epsilon)); // x + ε·sign(∇L)
    return tf.clipByValue(stepped, clipMin, clipMax);
  });
}
