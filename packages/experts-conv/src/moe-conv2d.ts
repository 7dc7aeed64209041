import * as tf from '@tensorflow/tfjs-core';
import { arg, checkDtype, checkRank, Component, MoEArgumentError, oneHotFloat, type ArgsTable } from '@moekit/core';
import type { ChannelGroupSelection } from './image-router.js';

/** Configuration of a {@link MoEConv2D}. */
export interface MoEConv2DArgs {
  /** Experts `E`: channel groups. */
  numExperts: number;
  /** Input channels `Cin`. */
  inputChannels: number;
  /** Output channels of each expert `G`; the layer's convolution has `E · G`. */
  expertChannels: number;
  /** Square kernel size. Default 3. */
  kernelSize?: number;
  /** Stride. Default 1. */
  stride?: number;
  /** Padding. Default `'same'`. */
  padding?: 'same' | 'valid';
  /** Add a bias per output channel. Default `false` (a conv before batch norm). */
  useBias?: boolean;
  /** Seed of the He-normal kernel. */
  seed?: number;
}

/**
 * AdvMoE's MoE convolution (Zhang et al. 2023, arXiv:2308.10110; the `MoEConv` of its MoE-CNN): one
 * convolution with `E · G` output channels, split into `E` groups of `G`; each image keeps only the group
 * its {@link ImageRouter} chose, `y_b = Σ_e m_{b,e} · conv(x_b)[:, :, eG:(e+1)G]` with `m_b` the
 * selection weights (one-hot), so the layer outputs `[B, H', W', G]` and a ResNet built of them keeps its
 * shape. As in AdvMoE, only the chosen group's weight receives a gradient, `∂L/∂m_{b,e} = [e chosen] ·
 * ⟨conv(x_b)_e, ∂L/∂y_b⟩`.
 *
 * @example
 * ```ts
 * import { MoEConv2D } from '@moekit/experts-conv';
 *
 * const conv = new MoEConv2D({ numExperts: 4, inputChannels: 16, expertChannels: 16 });
 * const y = conv.apply(x, router.route(images)); // [B, H, W, 16]
 * ```
 */
export class MoEConv2D extends Component<MoEConv2DArgs, Required<Omit<MoEConv2DArgs, 'seed'>> & Pick<MoEConv2DArgs, 'seed'>> {
  /** Name under which the class is registered for (de)serialisation. */
  static readonly className = 'MoEConv2D';
  /** The arguments: defaults and checks. */
  static readonly argsTable: ArgsTable<MoEConv2DArgs> = {
    numExperts: arg.integer({ min: 1 }),
    inputChannels: arg.integer({ min: 1 }),
    expertChannels: arg.integer({ min: 1 }),
    kernelSize: arg.integer({ min: 1, default: 3 }),
    stride: arg.integer({ min: 1, default: 1 }),
    padding: arg.oneOf<'same' | 'valid'>(['same', 'valid'], { default: 'same' }),
    useBias: arg.boolean({ default: false }),
    seed: arg.number({ optional: true }),
  };

  /** Validates the arguments (unknown options rejected by name) and draws the kernel (He normal). */
  constructor(args: MoEConv2DArgs) {
    super(args);
    const c = this.config;
    const fanIn = c.kernelSize * c.kernelSize * c.inputChannels;
    this.addVariable('kernel', tf.randomNormal([c.kernelSize, c.kernelSize, c.inputChannels, c.numExperts * c.expertChannels], 0, Math.sqrt(2 / fanIn), 'float32', c.seed));
    if (c.useBias) this.addVariable('bias', tf.zeros([c.numExperts * c.expertChannels]));
  }

  /** `[k, k, Cin, E · G]`. */
  get kernel(): tf.Variable {
    return this.variable('kernel', 'MoEConv2D.kernel');
  }

  /** `[E · G]`, with `useBias`. */
  get bias(): tf.Variable | undefined {
    return this.config.useBias ? this.variable('bias', 'MoEConv2D.bias') : undefined;
  }

  /** `x` `[B, H, W, Cin]` → `[B, H', W', G]`, each image through its chosen channel group. */
  apply(x: tf.Tensor, selection: ChannelGroupSelection): tf.Tensor4D {
    const where = 'MoEConv2D.apply';
    const kernel = this.variable('kernel', where);
    const bias = this.bias;
    const { numExperts: E, expertChannels: G, inputChannels, stride, padding } = this.config;
    checkRank(where, 'x', x, 4);
    checkDtype(where, 'x', x, 'float32'); // tfjs's conv2d takes float32 only
    if (x.shape[3] !== inputChannels) throw new MoEArgumentError(where, 'x', `${inputChannels} channels (inputChannels)`, `shape [${x.shape.join(', ')}]`);
    const B = x.shape[0];
    if (selection.weights.shape[0] !== B || selection.weights.shape[1] !== E) {
      throw new MoEArgumentError(where, 'selection.weights', `shape [${B}, ${E}] (images, experts)`, `shape [${selection.weights.shape.join(', ')}]`);
    }
    return tf.tidy(() => {
      let all = tf.conv2d(x as tf.Tensor4D, kernel as tf.Tensor4D, stride, padding); // [B, H', W', E·G]
      if (bias) all = tf.add(all, bias);
      const [, h, w] = all.shape;
      const groups = tf.reshape(all, [B, h, w, E, G]); // [B, H', W', E, G]
      const chosen = oneHotFloat(selection.expertIndex, E); // [B, E] constant: only the chosen weight gets a gradient
      const m = tf.reshape(tf.mul(selection.weights, chosen), [B, 1, 1, E, 1]);
      return tf.sum(tf.mul(groups, m), 3) as tf.Tensor4D; // [B, H', W', G]
    });
  }
}
