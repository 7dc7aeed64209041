import * as tf from '@tensorflow/tfjs-core';
import { checkAllFinite, checkFiniteNumber, describeValue, MoEArgumentError } from '@moekit/core';

/** Throws unless `clipMin < clipMax`, both finite: the declared valid input range. */
export function checkRange(where: string, clipMin: number, clipMax: number): void {
  checkFiniteNumber(where, 'clipMin', clipMin);
  checkFiniteNumber(where, 'clipMax', clipMax);
  if (!(clipMin < clipMax)) throw new MoEArgumentError(where, 'clipMax', `a number > clipMin (${clipMin})`, String(clipMax));
}

/**
 * Throws unless `images` is a non-empty float32 tensor whose every element is finite and lies in
 * `[clipMin, clipMax]`: one min and one max reduction, read back as two numbers. The error names the
 * first non-finite value, or else the offending extreme.
 */
export function checkInputRange(where: string, name: string, images: tf.Tensor, clipMin: number, clipMax: number): void {
  if (images.dtype !== 'float32') throw new MoEArgumentError(where, name, 'dtype float32', `dtype ${images.dtype}`);
  if (images.size === 0) throw new MoEArgumentError(where, name, 'at least one element', `shape ${describeValue(images.shape)}`);
  const extremes = tf.tidy(() => tf.stack([tf.min(images), tf.max(images)])); // [2]
  const [lo, hi] = extremes.dataSync();
  extremes.dispose();
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) checkAllFinite(where, name, images); // names the first NaN/Inf
  if (!(lo! >= clipMin) || !(hi! <= clipMax)) {
    throw new MoEArgumentError(where, name, `values in the declared input range [${clipMin}, ${clipMax}]`, `values in [${lo}, ${hi}]`);
  }
}
