/**
 * A task whose bottleneck is provably capacity: memorise `N` random key → value pairs. Each key is a
 * fixed random Gaussian code `[D]` and each value one of `C` classes drawn uniformly, so nothing
 * generalises and `N·log2 C` bits must be stored in the weights; a network stores at most a few bits
 * per parameter, so a middle layer with too few parameters cannot hold them all, whatever its compute.
 */
import * as tf from '@tensorflow/tfjs';

/** Sizes of {@link keyValuePairs}. */
export interface KeyValuePairsOptions {
  /** Pairs `N`. */
  pairs: number;
  /** Key width `D`. */
  dim: number;
  /** Value classes `C`. */
  classes: number;
  /** Seed of the keys and values. */
  seed: number;
}

/** Keys `x` `[N, D]` (standard normal) and values `y` `[N, 1]` (class ids as floats, uniform over `C`). */
export function keyValuePairs(o: KeyValuePairsOptions): { x: tf.Tensor2D; y: tf.Tensor2D } {
  const x = tf.randomNormal([o.pairs, o.dim], 0, 1, 'float32', o.seed) as tf.Tensor2D; // [N, D]
  const y = tf.tidy(() => tf.cast(tf.randomUniform([o.pairs, 1], 0, o.classes, 'int32', o.seed + 1), 'float32')) as tf.Tensor2D; // [N, 1]
  return { x, y };
}

/** Sizes and training settings of {@link keyValueModel}. */
export interface KeyValueModelOptions {
  /** Key width `D`. */
  dim: number;
  /** Value classes `C`. */
  classes: number;
  /** Adam's learning rate. Default 0.01. */
  learningRate?: number;
  /** Seed of the head's initialiser. Default 0. */
  seed?: number;
}

/** Builds and compiles (Adam, sparse cross-entropy) key → key + middle(key) → softmax over the `C` values. */
export function keyValueModel(o: KeyValueModelOptions, middle: (h: tf.SymbolicTensor) => tf.SymbolicTensor): tf.LayersModel {
  const input = tf.input({ shape: [o.dim] }); // [B, D]
  const h = tf.layers.add().apply([input, middle(input)]) as tf.SymbolicTensor; // [B, D]: a residual around the middle layer
  const output = tf.layers.dense({ units: o.classes, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: o.seed ?? 0 }) }).apply(h) as tf.SymbolicTensor; // [B, C]
  const model = tf.model({ inputs: input, outputs: output });
  model.compile({ optimizer: tf.train.adam(o.learningRate ?? 0.01), loss: 'sparseCategoricalCrossentropy' });
  return model;
}
