import * as tf from '@tensorflow/tfjs-core';
import { checkFiniteNumber, checkInteger, MoEArgumentError } from '@moekit/core';

/** Options of {@link stratifiedSamples}. */
export interface StratifiedSampleOptions {
  /** Start of every ray's interval `t_n`. */
  near: number;
  /** End of every ray's interval `t_f` (> `near`). */
  far: number;
  /** Samples per ray `S` (≥ 1). */
  numSamples: number;
  /** Draw each sample uniformly inside its bin (training); false puts it at the bin's centre. Default `true`. */
  perturb?: boolean;
  /** Seed of the jitter. Default: unseeded. */
  seed?: number;
}

/**
 * Stratified sample distances along `R` rays, NeRF (Mildenhall et al. 2020,
 * https://arxiv.org/abs/2003.08934) Eq. 2: `[t_n, t_f]` is cut into `S` even bins and
 * `t_i ~ U[t_n + (i−1)/S · (t_f − t_n), t_n + i/S · (t_f − t_n)]`. Returns `[R, S]`, increasing along each row.
 *
 * @example
 * ```ts
 * import { stratifiedSamples } from '@moekit/experts-hash-nerf';
 *
 * const t = stratifiedSamples(256, { near: 0.5, far: 2.5, numSamples: 32, seed: 1 }); // [256, 32]
 * ```
 */
export function stratifiedSamples(numRays: number, options: StratifiedSampleOptions): tf.Tensor2D {
  const where = 'stratifiedSamples';
  checkInteger(where, 'numRays', numRays, 0);
  checkInteger(where, 'numSamples', options.numSamples, 1);
  checkFiniteNumber(where, 'near', options.near);
  checkFiniteNumber(where, 'far', options.far);
  if (!(options.far > options.near)) throw new MoEArgumentError(where, 'far', `> near (${options.near})`, String(options.far));
  const { near, far, numSamples: S } = options;
  const bin = (far - near) / S;
  return tf.tidy(() => {
    const lower = tf.add(near, tf.mul(bin, tf.range(0, S))); // [S] bin starts
    const u = options.perturb ?? true ? tf.randomUniform([numRays, S], 0, 1, 'float32', options.seed) : tf.fill([numRays, S], 0.5); // [R, S]
    return tf.add(lower, tf.mul(bin, u)) as tf.Tensor2D; // [R, S]
  });
}
