import * as tf from '@tensorflow/tfjs-core';
import { checkRank, Component, type ArgsTable } from '@moekit/core';

/** Configuration of a {@link GapGate}: it has no arguments. */
export type GapGateArgs = Record<string, never>;

/**
 * Pavlitska et al. 2022's GAP gate input: global average pooling of each image's feature map,
 * `[B, H, W, C]` → `[B, C]`. The gate's dense layer is the router's own gate kernel (e.g. a
 * `TopKRouter` with Shazeer noise), so this module has no weights.
 *
 * @example
 * ```ts
 * import { GapGate } from '@moekit/experts-conv';
 *
 * const out = moe.apply(features, { training: true, gateInput: new GapGate().apply(features) });
 * ```
 */
export class GapGate extends Component<GapGateArgs> {
  /** Name under which the class is registered for (de)serialisation. */
  static readonly className = 'GapGate';
  /** No arguments. */
  static readonly argsTable: ArgsTable<GapGateArgs> = {};

  /** A gate without weights. */
  constructor(args: GapGateArgs = {}) {
    super(args);
  }

  /** `[B, H, W, C]` → `[B, C]`, the mean over each image's pixels. */
  apply(images: tf.Tensor): tf.Tensor2D {
    this.assertLive('GapGate.apply');
    checkRank('GapGate.apply', 'images', images, 4);
    return tf.mean(images, [1, 2]) as tf.Tensor2D;
  }

  /** Width of the gate input for `C`-channel images: `C`. */
  outputDim(channels: number): number {
    return channels;
  }
}
