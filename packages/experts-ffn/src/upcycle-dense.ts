import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { MoEArgumentError } from '@moekit/core';
import { ffnActivations, type FfnActivation } from './activations.js';
import { FeedForwardExperts } from './feed-forward-experts.js';

/** Options of {@link upcycleDense}. */
export interface UpcycleOptions {
  /** Std of Gaussian noise added to each copy's weights, to break the experts' symmetry. Default 0: exact copies. */
  noise?: number;
  /** Seed of the noise. */
  seed?: number;
}

/**
 * Sparse upcycling (Komatsuzaki et al. 2022, "Sparse Upcycling: Training Mixture-of-Experts from
 * Dense Checkpoints", https://arxiv.org/abs/2212.05055; CuMo co-upcycles MLP blocks the same way):
 * builds `numExperts` FFN experts from a pretrained dense FFN given as its two `tf.layers.dense`
 * layers (`D → H` with the activation, then `H → D'` linear), each expert an exact copy of its
 * weights unless `noise` is asked for. With identical experts and combine weights summing to 1 the
 * MoE computes exactly the dense FFN.
 *
 * @example
 * ```ts
 * import { upcycleDense } from '@moekit/experts-ffn';
 *
 * const experts = upcycleDense([hidden, output], 8); // from a trained model's two Dense layers
 * ```
 */
export function upcycleDense(denseLayers: [tfl.layers.Layer, tfl.layers.Layer], numExperts: number, options: UpcycleOptions = {}): FeedForwardExperts {
  const where = 'upcycleDense';
  if (!Array.isArray(denseLayers) || denseLayers.length !== 2) {
    throw new MoEArgumentError(where, 'denseLayers', 'two built tf.layers.dense layers [D → H, H → D\']', Array.isArray(denseLayers) ? `${denseLayers.length} layers` : String(denseLayers));
  }
  const noise = options.noise ?? 0;
  if (!(noise >= 0)) throw new MoEArgumentError(where, 'options.noise', 'a number >= 0', String(noise));
  const [first, second] = denseLayers;
  const weightsOf = (layer: tfl.layers.Layer, index: number) => {
    const w = layer.getWeights();
    if (w.length < 1 || w[0]!.rank !== 2) throw new MoEArgumentError(where, `denseLayers[${index}]`, 'a built Dense layer (kernel [in, out], optional bias)', `${layer.getClassName()} with ${w.length} weights`);
    return { kernel: w[0]!, bias: w[1] };
  };
  const a = weightsOf(first, 0);
  const b = weightsOf(second, 1);
  const [D, H] = a.kernel.shape as [number, number];
  if (b.kernel.shape[0] !== H) throw new MoEArgumentError(where, 'denseLayers[1]', `a kernel of ${H} rows (the first layer's units)`, `kernel [${b.kernel.shape.join(', ')}]`);
  const activation = String(first.getConfig()['activation'] ?? 'linear') as FfnActivation;
  if (!ffnActivations.includes(activation)) throw new MoEArgumentError(where, 'denseLayers[0].activation', `one of ${ffnActivations.join(' | ')}`, `'${activation}'`);
  const secondActivation = String(second.getConfig()['activation'] ?? 'linear');
  if (secondActivation !== 'linear') throw new MoEArgumentError(where, 'denseLayers[1].activation', "'linear'", `'${secondActivation}'`);
  if ((a.bias === undefined) !== (b.bias === undefined)) throw new MoEArgumentError(where, 'denseLayers', 'both layers with a bias or both without', 'one of each');

  const experts = new FeedForwardExperts({ numExperts, inputDim: D, hiddenDim: H, outputDim: b.kernel.shape[1]!, activation, useBias: a.bias !== undefined, kernelInitializer: 'zeros' });
  let seed = options.seed;
  const copies = (t: tf.Tensor, shape: number[]) => tf.tidy(() => {
    const tiled = tf.tile(tf.reshape(t, [1, ...shape]), [numExperts, ...shape.map(() => 1)]);
    return noise > 0 ? tf.add(tiled, tf.randomNormal(tiled.shape, 0, noise, 'float32', seed === undefined ? undefined : seed++)) : tiled;
  });
  const { w1, b1, w2, b2 } = experts.weights;
  w1.assign(copies(a.kernel, [D, H]));
  w2.assign(copies(b.kernel, [H, b.kernel.shape[1]!]));
  if (a.bias && b1) b1.assign(copies(a.bias, [1, H]));
  if (b.bias && b2) b2.assign(copies(b.bias, [1, b.kernel.shape[1]!]));
  return experts;
}
