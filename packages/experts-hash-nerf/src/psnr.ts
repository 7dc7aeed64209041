import * as tf from '@tensorflow/tfjs-core';
import { checkShape } from '@moekit/core';

/**
 * Peak signal-to-noise ratio in dB, `PSNR = 10 · log10(maxValue² / MSE)`, of `prediction` against
 * `target` (same shape; colours in `[0, maxValue]`). Reads one number back; `Infinity` when they are equal.
 *
 * @example
 * ```ts
 * import { psnr } from '@moekit/experts-hash-nerf';
 *
 * psnr(rendered, groundTruth); // e.g. 20 for an MSE of 0.01
 * ```
 */
export function psnr(prediction: tf.Tensor, target: tf.Tensor, maxValue = 1): number {
  checkShape('psnr', 'prediction', prediction, target.shape);
  const mseTensor = tf.tidy(() => tf.mean(tf.squaredDifference(prediction, target)));
  const mse = mseTensor.dataSync()[0]!;
  mseTensor.dispose();
  return 10 * Math.log10((maxValue * maxValue) / mse);
}
