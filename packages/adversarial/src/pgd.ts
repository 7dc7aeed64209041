import * as tf from '@tensorflow/tfjs-core';
import { checkInteger, checkNonNegative, rejectUnknownOptions } from '@moekit/core';
import type { AttackObjective } from './attack-objective.js';
import { checkInputRange, checkRange } from './check-input-range.js';

/** Configuration of {@link pgd}. */
export interface PgdArgs {
  /** L∞ radius `ε ≥ 0` of the perturbation, in input units. */
  epsilon: number;
  /** Step size `α ≥ 0` of each signed-gradient step. Default `2.5 · ε / steps` (Madry et al. 2018's rule). */
  stepSize?: number;
  /** Number of steps, an integer ≥ 1. Default 10. */
  steps?: number;
  /** Start from `x + U(−ε, ε)` (clipped to the range) instead of `x`. Default `true`. */
  randomStart?: boolean;
  /** Lower end of the valid input range. Default 0. */
  clipMin?: number;
  /** Upper end of the valid input range. Default 1. */
  clipMax?: number;
  /** Seed of the random start (unseeded: `Math.random`). */
  seed?: number;
}

/**
 * Projected gradient descent on the negative objective, L∞ (Madry et al. 2018, "Towards Deep Learning
 * Models Resistant to Adversarial Attacks", Eq. 2.2): `x^{t+1} = Π_{B∞(x, ε) ∩ [lo, hi]}(x^t + α ·
 * sign(∇_x L(x^t)))`, from `x^0 = x + U(−ε, ε)` with `randomStart`. The projection clips to
 * `[x − ε, x + ε]` and then to `[clipMin, clipMax]`, so every iterate lies in both. With `steps: 1`,
 * `randomStart: false` and `stepSize: ε` it is {@link fgsm}. `images` must lie in `[clipMin, clipMax]`.
 * Returns a new tensor the caller owns.
 *
 * @example
 * ```ts
 * import { crossEntropyObjective, pgd } from '@moekit/adversarial';
 *
 * const xAdv = pgd(crossEntropyObjective(model, labels), images, { epsilon: 0.1, stepSize: 0.025, steps: 10 });
 * ```
 */
export function pgd(objective: AttackObjective, images: tf.Tensor, args: PgdArgs): tf.Tensor {
  const where = 'pgd';
  rejectUnknownOptions(where, args, ['epsilon', 'stepSize', 'steps', 'randomStart', 'clipMin', 'clipMax', 'seed']);
  const { epsilon } = args;
  checkNonNegative(where, 'epsilon', epsilon);
  const steps = args.steps ?? 10;
  checkInteger(where, 'steps', steps, 1);
  const stepSize = args.stepSize ?? (2.5 * epsilon) / steps;
  checkNonNegative(where, 'stepSize', stepSize);
  const clipMin = args.clipMin ?? 0;
  const clipMax = args.clipMax ?? 1;
  checkRange(where, clipMin, clipMax);
  checkInputRange(where, 'images', images, clipMin, clipMax);
  return tf.tidy(() => {
    const lower = tf.sub(images, epsilon); // x − ε
    const upper = tf.add(images, epsilon); // x + ε
    // Π_{B∞(x, ε) ∩ [lo, hi]}: the ball first, then the valid range (both boxes, so the order is exact)
    const project = (z: tf.Tensor) => tf.clipByValue(tf.minimum(tf.maximum(z, lower), upper), clipMin, clipMax);
    let x: tf.Tensor = args.randomStart ?? true
      ? tf.clipByValue(tf.add(images, tf.randomUniform(images.shape, -epsilon, epsilon, 'float32', args.seed)), clipMin, clipMax) // Madry's random start
      : tf.clone(images);
    const gradient = tf.grad(objective);
    for (let t = 0; t < steps; t++) {
      const next = tf.tidy(() => project(tf.add(x, tf.mul(tf.sign(gradient(x)), stepSize)))); // Madry Eq. 2.2
      x.dispose();
      x = next;
    }
    return x;
  });
}
