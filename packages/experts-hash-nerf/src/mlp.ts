import * as tf from '@tensorflow/tfjs-core';
import { arg, Component, describeValue, MoEArgumentError, type ArgsTable } from '@moekit/core';

/** Configuration of an {@link Mlp}. */
export interface MlpArgs {
  /** Input width (≥ 1). */
  inputDim: number;
  /** Hidden width (≥ 1). */
  hiddenDim: number;
  /** Output width (≥ 1). */
  outputDim: number;
  /** Seed of the Glorot-uniform kernels (`w2` draws from `seed + 1`). Default: unseeded. */
  seed?: number;
}

/**
 * The small decoder MLP of hash-grid models (Instant-NGP §4 uses one hidden layer of 64): `ReLU(x·W1 + b1)·W2 + b2`,
 * Glorot-uniform kernels, zero biases. `[N, in]` → `[N, out]`. Its weights are named `w1`, `b1`, `w2`, `b2`.
 */
export class Mlp extends Component<MlpArgs> {
  /** Name under which the class is registered for (de)serialisation. */
  static readonly className = 'Mlp';
  /** The arguments: checks. */
  static readonly argsTable: ArgsTable<MlpArgs> = {
    inputDim: arg.integer({ min: 1 }),
    hiddenDim: arg.integer({ min: 1 }),
    outputDim: arg.integer({ min: 1 }),
    seed: arg.number({ optional: true }),
  };

  /** Validates the arguments and draws the weights. */
  constructor(args: MlpArgs) {
    super(args);
    const { inputDim, hiddenDim, outputDim, seed } = this.config;
    const glorot = (fanIn: number, fanOut: number, s?: number) => {
      const limit = Math.sqrt(6 / (fanIn + fanOut)); // Glorot & Bengio 2010, uniform
      return tf.randomUniform([fanIn, fanOut], -limit, limit, 'float32', s);
    };
    this.addVariable('w1', glorot(inputDim, hiddenDim, seed));
    this.addVariable('b1', tf.zeros([hiddenDim]));
    this.addVariable('w2', glorot(hiddenDim, outputDim, seed === undefined ? undefined : seed + 1));
    this.addVariable('b2', tf.zeros([outputDim]));
  }

  /** `[in, H]` first kernel. */
  get w1(): tf.Variable {
    return this.variable('w1', 'Mlp.w1');
  }

  /** `[H]` first bias. */
  get b1(): tf.Variable {
    return this.variable('b1', 'Mlp.b1');
  }

  /** `[H, out]` second kernel. */
  get w2(): tf.Variable {
    return this.variable('w2', 'Mlp.w2');
  }

  /** `[out]` second bias. */
  get b2(): tf.Variable {
    return this.variable('b2', 'Mlp.b2');
  }

  /** `[N, in]` → `[N, out]`. */
  apply(x: tf.Tensor2D): tf.Tensor2D {
    const where = 'Mlp.apply';
    const [w1, b1, w2, b2] = (['w1', 'b1', 'w2', 'b2'] as const).map((name) => this.variable(name, where));
    if (x.rank !== 2 || x.shape[1] !== this.config.inputDim) throw new MoEArgumentError(where, 'x', `shape [N, ${this.config.inputDim}]`, `shape ${describeValue(x.shape)}`);
    return tf.tidy(() => {
      const hidden = tf.relu(tf.add(tf.matMul(x, w1 as tf.Tensor2D), b1!)); // [N, H]
      return tf.add(tf.matMul(hidden as tf.Tensor2D, w2 as tf.Tensor2D), b2!) as tf.Tensor2D; // [N, out]
    });
  }
}
