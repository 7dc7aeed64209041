import * as tf from '@tensorflow/tfjs-core';

/** Fraction of equal entries of two `[B]` int32 expert choices, as a scalar. */
export function routerAgreement(a: tf.Tensor1D, b: tf.Tensor1D): tf.Scalar {
  return tf.tidy(() => tf.mean(tf.cast(tf.equal(a, b), 'float32')) as tf.Scalar);
}
