import * as tf from '@tensorflow/tfjs-core';
import { checkInteger, checkRank, MoEArgumentError, rejectUnknownOptions } from '@moekit/core';

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

/**
 * Pavlitska et al. 2022's conv gate input: a convolution with bias and ReLU, then global average
 * pooling, `[B, H, W, Cin]` → `[B, filters]`; the router's gate kernel is the dense layer after it.
 *
 * @example
 * ```ts
 * const gate = new ConvGate({ inputChannels: 16, filters: 32 });
 * const out = moe.apply(features, { training: true, gateInput: gate.apply(features) });
 * ```
 */
export class ConvGate {
  /** `[k, k, Cin, filters]`. */
  readonly kernel: tf.Variable;
  /** `[filters]`. */
  readonly bias: tf.Variable;
  private readonly stride: number;

  /** Validates the arguments and draws the kernel (He normal). */
  constructor(args: ConvGateArgs) {
    const where = 'ConvGate';
    rejectUnknownOptions(where, args, ['inputChannels', 'filters', 'kernelSize', 'stride', 'seed']);
    const k = args.kernelSize ?? 3;
    this.stride = args.stride ?? 1;
    checkInteger(where, 'inputChannels', args.inputChannels, 1);
    checkInteger(where, 'filters', args.filters, 1);
    checkInteger(where, 'kernelSize', k, 1);
    checkInteger(where, 'stride', this.stride, 1);
    if (k % 2 === 0) throw new MoEArgumentError(where, 'kernelSize', 'an odd integer (same padding)', String(k));
    this.kernel = tf.tidy(() => tf.variable(tf.randomNormal([k, k, args.inputChannels, args.filters], 0, Math.sqrt(2 / (k * k * args.inputChannels)), 'float32', args.seed), true));
    this.bias = tf.tidy(() => tf.variable(tf.zeros([args.filters]), true));
  }

  /** The kernel and the bias. */
  get trainableVariables(): tf.Variable[] {
    return [this.kernel, this.bias];
  }

  /** `[B, H, W, Cin]` → `[B, filters]`: GAP(ReLU(conv(x) + b)). */
  apply(images: tf.Tensor): tf.Tensor2D {
    const where = 'ConvGate.apply';
    checkRank(where, 'images', images, 4);
    if (images.shape[3] !== this.kernel.shape[2]) {
      throw new MoEArgumentError(where, 'images', `${this.kernel.shape[2]} channels (inputChannels)`, `shape [${images.shape.join(', ')}]`);
    }
    return tf.tidy(() => tf.mean(tf.relu(tf.add(tf.conv2d(images as tf.Tensor4D, this.kernel as tf.Tensor4D, this.stride, 'same'), this.bias)), [1, 2]) as tf.Tensor2D);
  }

  /** Width of the gate input: `filters`. */
  outputDim(): number {
    return this.kernel.shape[3]!;
  }

  /** Releases the kernel and the bias. */
  dispose(): void {
    tf.dispose([this.kernel, this.bias]);
  }
}
