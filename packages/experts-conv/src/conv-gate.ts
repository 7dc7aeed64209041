import * as tf from '@tensorflow/tfjs-core';
import { arg, checkDtype, checkInteger, checkRank, Component, MoEArgumentError, type ArgsTable } from '@moekit/core';

/** Configuration of a {@link ConvGate}. */
export interface ConvGateArgs {
  /** Channels of the images it reads. */
  inputChannels: number;
  /** Filters of its convolution, the width of the gate input it produces. */
  filters: number;
  /** Square kernel size (odd). Default 3. */
  kernelSize?: number;
  /** Stride of the convolution. Default 1. */
  stride?: number;
  /** Seed of the He-normal kernel. */
  seed?: number;
}

/** `where: argument 'kernelSize' expected an odd integer (same padding)` unless `value` is an odd integer ≥ 1. */
export function checkOddKernelSize(where: string, name: string, value: number): void {
  checkInteger(where, name, value, 1);
  if (value % 2 === 0) throw new MoEArgumentError(where, name, 'an odd integer (same padding)', String(value));
}

/**
 * Pavlitska et al. 2022's conv gate input: a convolution with bias and ReLU, then global average
 * pooling, `[B, H, W, Cin]` → `[B, filters]`; the router's gate kernel is the dense layer after it.
 *
 * @example
 * ```ts
 * import { ConvGate } from '@moekit/experts-conv';
 *
 * const gate = new ConvGate({ inputChannels: 16, filters: 32 });
 * const out = moe.apply(features, { training: true, gateInput: gate.apply(features) });
 * ```
 */
export class ConvGate extends Component<ConvGateArgs, Required<Omit<ConvGateArgs, 'seed'>> & Pick<ConvGateArgs, 'seed'>> {
  /** Name under which the class is registered for (de)serialisation. */
  static readonly className = 'ConvGate';
  /** The arguments: defaults and checks. */
  static readonly argsTable: ArgsTable<ConvGateArgs> = {
    inputChannels: arg.integer({ min: 1 }),
    filters: arg.integer({ min: 1 }),
    kernelSize: arg.value<number>({ default: 3, expected: 'an odd integer', check: checkOddKernelSize }),
    stride: arg.integer({ min: 1, default: 1 }),
    seed: arg.number({ optional: true }),
  };

  /** Validates the arguments and draws the kernel (He normal). */
  constructor(args: ConvGateArgs) {
    super(args);
    const { inputChannels, filters, kernelSize: k, seed } = this.config;
    this.addVariable('kernel', tf.randomNormal([k, k, inputChannels, filters], 0, Math.sqrt(2 / (k * k * inputChannels)), 'float32', seed)); // He et al. 2015
    this.addVariable('bias', tf.zeros([filters]));
  }

  /** `[k, k, Cin, filters]`. */
  get kernel(): tf.Variable {
    return this.variable('kernel', 'ConvGate.kernel');
  }

  /** `[filters]`. */
  get bias(): tf.Variable {
    return this.variable('bias', 'ConvGate.bias');
  }

  /** `[B, H, W, Cin]` → `[B, filters]`: GAP(ReLU(conv(x) + b)). */
  apply(images: tf.Tensor): tf.Tensor2D {
    const where = 'ConvGate.apply';
    const kernel = this.variable('kernel', where);
    const bias = this.variable('bias', where);
    checkRank(where, 'images', images, 4);
    checkDtype(where, 'images', images, 'float32'); // tfjs's conv2d takes float32 only
    if (images.shape[3] !== kernel.shape[2]) {
      throw new MoEArgumentError(where, 'images', `${kernel.shape[2]} channels (inputChannels)`, `shape [${images.shape.join(', ')}]`);
    }
    return tf.tidy(() => tf.mean(tf.relu(tf.add(tf.conv2d(images as tf.Tensor4D, kernel as tf.Tensor4D, this.config.stride, 'same'), bias)), [1, 2]) as tf.Tensor2D);
  }

  /** Width of the gate input: `filters`. */
  outputDim(): number {
    return this.config.filters;
  }
}
