import * as tf from '@tensorflow/tfjs-core';
import { oneHotFloat } from '@moekit/core';

/** The standard normal CDF `Φ(z) = (1 + erf(z / √2)) / 2`, differentiable. @internal */
export function normalCdf(z: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.mul(0.5, tf.add(1, tf.erf(tf.mul(z, Math.SQRT1_2)))));
}

/**
 * `values[t, index[t]]` as a differentiable gather (a one-hot product, as tfjs's `gather` with
 * `batchDims = 1` is wrong on wasm): `[T, E]`, `[T]` int32 → `[T]`. @internal
 */
export function pickPerRow(values: tf.Tensor2D, index: tf.Tensor1D): tf.Tensor1D {
  return tf.tidy(() => tf.sum(tf.mul(values, oneHotFloat(index, values.shape[1])), 1) as tf.Tensor1D);
}
