import * as tf from '@tensorflow/tfjs-core';
import { checkFiniteNumber, MoEArgumentError } from '@moekit/core';

/** Throws unless `clipMin < clipMax`, both finite: the declared valid input range. */
export function checkRange(where: string, clipMin: number, clipMax: number): void {
  checkFiniteNumber(where, 'clipMin', clipMin);
  checkFiniteNumber(where, 'clipMax', clipMax);
  if (!(clipMin < clipMax)) throw new MoEArgumentError(where, 'clipMax', `a number > clipMin (${clipMin})`, String(clipMax));
}

/**
 * Throws unless every element of `images` lies in `[clipMin, clipMax]` (and is finite): one min and one
 * max reduction, read back as two numbers. The error names the offending extreme.
 */
export function checkInputRange(where: string, name: string, images: tf.Tensor, clipMin: number, clipMax: number): void {
  if (images.dtype !== 'float32') throw new MoEArgumentError(where, name, 'dtype float32', `dtype ${images.dtype}`);
  const extremes = tf.tidy(() => tf.stack([tf.min(images), tf.max(images)])); // [2]
  const [lo, hi] = extremes.dataSync();
  extremes.dispose();
  if (!(lo! >= clipMin) || !(hi! <= clipMax)) {
    throw new MoEArgumentError(where, name, `values in the declared input range [${clipMin}, ${clipMax}]`, `values in [${lo}, ${hi}]`);
  }
}
