import * as tf from '@tensorflow/tfjs-core';
import { checkRank, checkShape, MoEArgumentError } from '@moekit/core';
import type { Vec3 } from './vec3.js';

/** Options of {@link volumeRender}. */
export interface VolumeRenderOptions {
  /** Length of the last sample's interval `δ_S`. Default 1e10, as NeRF (the ray ends in whatever it hit). */
  lastDelta?: number;
  /** Colour seen through what the ray leaves transparent: `C + (1 − Σ w)·background`. Default black `[0, 0, 0]`. */
  background?: Vec3;
}

/** What {@link volumeRender} returns; the caller owns every tensor. */
export interface VolumeRenderOutput {
  /** `[R, 3]` rendered colour. */
  rgb: tf.Tensor2D;
  /** `[R, S]` compositing weights `w_i = T_i · α_i`. */
  weights: tf.Tensor2D;
  /** `[R, S]` transmittance `T_i` reaching sample `i` (1 at the first sample). */
  transmittance: tf.Tensor2D;
  /** `[R]` accumulated opacity `Σ_i w_i = 1 − T_{S+1}`. */
  opacity: tf.Tensor1D;
}

/**
 * Volume rendering by alpha compositing, NeRF (Mildenhall et al. 2020, https://arxiv.org/abs/2003.08934)
 * Eq. 3: `C = Σ_i T_i · (1 − exp(−σ_i δ_i)) · c_i` with `T_i = exp(−Σ_{j<i} σ_j δ_j)` and
 * `δ_i = t_{i+1} − t_i`. Exact for density and colour constant over each interval. The exclusive
 * cumulative sum is a product with a strictly upper-triangular `[S, S]` matrix (a matMul, whose gradient
 * tfjs has), so gradients reach `sigma` and `rgb`.
 *
 * @param sigma `[R, S]` densities (≥ 0).
 * @param rgb `[R, S, 3]` colours.
 * @param tVals `[R, S]` increasing sample distances (unit directions, so `t` is a length).
 * @example
 * ```ts
 * import { volumeRender } from '@moekit/experts-hash-nerf';
 *
 * const { rgb: pixels } = volumeRender(sigma, colours, t); // [R, 3]
 * ```
 */
export function volumeRender(sigma: tf.Tensor2D, rgb: tf.Tensor3D, tVals: tf.Tensor2D, options: VolumeRenderOptions = {}): VolumeRenderOutput {
  const where = 'volumeRender';
  checkRank(where, 'sigma', sigma, 2);
  const [R, S] = sigma.shape;
  checkShape(where, 'rgb', rgb, [R, S, 3]);
  checkShape(where, 'tVals', tVals, [R, S]);
  const lastDelta = options.lastDelta ?? 1e10;
  if (!(lastDelta >= 0)) throw new MoEArgumentError(where, 'lastDelta', 'a number >= 0', String(lastDelta));
  const background = options.background ?? [0, 0, 0];
  return tf.tidy(() => {
    const gaps = S > 1 ? tf.sub(tf.slice(tVals, [0, 1], [R, S - 1]), tf.slice(tVals, [0, 0], [R, S - 1])) : tf.zeros([R, 0]); // [R, S−1]
    const deltas = tf.concat([gaps, tf.fill([R, 1], lastDelta)], 1); // [R, S] δ_i
    const opticalDepth = tf.mul(sigma, deltas); // [R, S] σ_i δ_i
    const alpha = tf.sub(1, tf.exp(tf.neg(opticalDepth))); // [R, S] α_i = 1 − exp(−σ_i δ_i)
    const strictlyUpper = tf.tensor2d(Array.from({ length: S * S }, (_, k) => (Math.floor(k / S) < k % S ? 1 : 0)), [S, S]); // [S, S] U[j, i] = 1 if j < i
    const before = tf.matMul(opticalDepth, strictlyUpper); // [R, S] Σ_{j<i} σ_j δ_j
    const transmittance = tf.exp(tf.neg(before)) as tf.Tensor2D; // [R, S] T_i
    const weights = tf.mul(transmittance, alpha) as tf.Tensor2D; // [R, S] w_i
    const opacity = tf.sum(weights, 1) as tf.Tensor1D; // [R]
    const colour = tf.sum(tf.mul(tf.expandDims(weights, 2), rgb), 1); // [R, 3] Σ_i w_i c_i
    const withBackground = background.every((b) => b === 0) ? colour : tf.add(colour, tf.mul(tf.expandDims(tf.sub(1, opacity), 1), tf.tensor1d(background))); // [R, 3]
    return { rgb: withBackground as tf.Tensor2D, weights, transmittance, opacity };
  });
}
