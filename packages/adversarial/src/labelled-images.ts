import * as tf from '@tensorflow/tfjs-core';
import { checkRank, describeValue, MoEArgumentError } from '@moekit/core';

/** A labelled image set: what training and evaluation read. */
export interface LabelledImages {
  /** `[N, H, W, C]` float32 images in the declared input range. */
  images: tf.Tensor;
  /** `[N]` int32 class labels. */
  labels: tf.Tensor1D;
}

/** Throws unless `data` holds at least one rank-4 image and as many rank-1 int32 labels (an empty set would give NaN rates). */
export function checkLabelledImages(where: string, data: LabelledImages): void {
  if (data === undefined || !(data.images instanceof tf.Tensor) || !(data.labels instanceof tf.Tensor)) {
    throw new MoEArgumentError(where, 'data', '{ images: Tensor4D, labels: Tensor1D }', String(data));
  }
  checkRank(where, 'data.images', data.images, 4);
  if (data.images.shape[0] === 0) throw new MoEArgumentError(where, 'data.images', 'at least one image', `shape ${describeValue(data.images.shape)}`);
  checkRank(where, 'data.labels', data.labels, 1);
  if (data.labels.dtype !== 'int32') throw new MoEArgumentError(where, 'data.labels', 'dtype int32', `dtype ${data.labels.dtype}`);
  if (data.labels.shape[0] !== data.images.shape[0]) {
    throw new MoEArgumentError(where, 'data.labels', `length ${data.images.shape[0]} (one per image)`, `length ${data.labels.shape[0]}`);
  }
}

/** Mulberry32: a small seeded generator of uniforms in [0, 1) for reproducible shuffles. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The order of `n` samples for one epoch: `0…n−1`, or a Fisher–Yates shuffle seeded by `seed`. */
export function epochOrder(n: number, shuffle: boolean, seed: number): Int32Array {
  const order = Int32Array.from({ length: n }, (_, i) => i);
  if (!shuffle) return order;
  const random = mulberry32(seed);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  return order;
}

/** The batch of `data` at `indices`: new tensors the caller owns. */
export function takeBatch(data: LabelledImages, indices: Int32Array): { images: tf.Tensor; labels: tf.Tensor1D } {
  return tf.tidy(() => {
    const at = tf.tensor1d(indices, 'int32'); // [b]
    return { images: tf.gather(data.images, at), labels: tf.gather(data.labels, at) as tf.Tensor1D };
  });
}
