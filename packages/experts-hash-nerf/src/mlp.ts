import * as tf from '@tensorflow/tfjs-core';
import { checkInteger } from '@moekit/core';

/** Configuration of an {@link Mlp}. */
export interface MlpArgs {
  /** Input width (≥ 1). */
  inputDim: number;
  /** Hidden width (≥ 1). */
  hiddenDim: number;
  /** Output width (≥ 1). */
  outputDim: number;
  /** Seed of the Glorot-uniform kernels. Default: unseeded. */
  seed?: number;
}

/**
 * The small decoder MLP of hash-grid models (Instant-NGP §4 uses one hidden layer of 64): `ReLU(x·W1 + b1)·W2 + b2`,
 * Glorot-uniform kernels, zero biases. `[N, in]` → `[N, out]`.
 */
export class Mlp {
  /** `[in, H]` first kernel. */
  readonly w1: tf.Variable;
  /** `[H]` first bias. */
  readonly b1: tf.Variable;
  /** `[H, out]` second kernel. */
  readonly w2: tf.Variable;
  /** `[out]` second bias. */
  readonly b2: tf.Variable;

  /** Draws the weights. */
  constructor(args: MlpArgs, where = 'Mlp') {
    checkInteger(where, 'inputDim', args.inputDim, 1);
    checkInteger(where, 'hiddenDim', args.hiddenDim, 1);
    checkInteger(where, 'outputDim', args.outputDim, 1);
    const glorot = (fanIn: number, fanOut: number, seed?: number) => {
      const limit = Math.sqrt(6 / (fanIn + fanOut)); // Glorot & Bengio 2010, uniform
      return tf.tidy(() => tf.variable(tf.randomUniform([fanIn, fanOut], -limit, limit, 'float32', seed), true));
    };
    this.w1 = glorot(args.inputDim, args.hiddenDim, args.seed);
    this.b1 = tf.tidy(() => tf.variable(tf.zeros([args.hiddenDim]), true));
    this.w2 = glorot(args.hiddenDim, args.outputDim, args.seed === undefined ? undefined : args.seed + 1);
    this.b2 = tf.tidy(() => tf.variable(tf.zeros([args.outputDim]), true));
  }

  /** `[w1, b1, w2, b2]`. */
  get trainableVariables(): tf.Variable[] {
    return [this.w1, this.b1, this.w2, this.b2];
  }

  /** `[N, in]` → `[N, out]`. */
  apply(x: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => {
      const hidden = tf.relu(tf.add(tf.matMul(x, this.w1 as tf.Tensor2D), this.b1)); // [N, H]
      return tf.add(tf.matMul(hidden as tf.Tensor2D, this.w2 as tf.Tensor2D), this.b2) as tf.Tensor2D; // [N, out]
    });
  }

  /** Releases the weights. */
  dispose(): void {
    tf.dispose(this.trainableVariables);
  }
}
