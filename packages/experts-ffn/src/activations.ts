import * as tf from '@tensorflow/tfjs-core';

/** Expert activations: ReLU, GELU (exact, `x·Φ(x)`) and Swish/SiLU (`x·σ(x)`). */
export type FfnActivation = 'relu' | 'gelu' | 'swish';

/** The activation names, for validation. @internal */
export const ffnActivations: readonly FfnActivation[] = ['relu', 'gelu', 'swish'];

/** Applies `activation` elementwise (differentiable). @internal */
export function activate(x: tf.Tensor, activation: FfnActivation): tf.Tensor {
  return tf.tidy(() => {
    switch (activation) {
      case 'relu':
        return tf.relu(x);
      case 'gelu': // Hendrycks & Gimpel 2016: x · Φ(x) = x · (1 + erf(x / √2)) / 2
        return tf.mul(tf.mul(x, 0.5), tf.add(1, tf.erf(tf.mul(x, Math.SQRT1_2))));
      case 'swish': // Ramachandran et al. 2017 (SiLU): x · σ(x)
        return tf.mul(x, tf.sigmoid(x));
    }
  });
}
