/**
 * AdvMoE's MoE-CNN at MNIST size (Zhang et al. 2023, arXiv:2308.10110), built from experts-conv: one
 * image-level router (conv gate → dense → top-1, straight-through estimator) whose choice selects the
 * same channel group in both MoE convolutions, then a dense head. It satisfies `AdvMoEModel`.
 */
import * as tf from '@tensorflow/tfjs';
import type { AdvMoEModel } from '@moekit/adversarial';
import { loadMnist } from '@moekit/datasets';
import { ConvGate, ImageRouter, MoEConv2D } from '@moekit/experts-conv';

/** Sizes of the MoE-CNN. */
export interface AdvMoECnnOptions {
  /** Experts E (channel groups). */
  numExperts: number;
  /** Channels of each expert's group in both MoE convs. */
  channels: number;
  /** Seed of every initialiser. */
  seed: number;
}

/** An MoE-CNN for 28×28×1 images: router(x); MoEConv(stride 2) → ReLU → MoEConv(stride 2) → ReLU → dense 10. */
export function advMoECnn(options: AdvMoECnnOptions): AdvMoEModel & { dispose(): void } {
  const { numExperts: E, channels: c, seed } = options;
  const router = new ImageRouter({ numExperts: E, gate: new ConvGate({ inputChannels: 1, filters: 8, stride: 2, seed }), gateDim: 8, seed: seed + 1 });
  const conv1 = new MoEConv2D({ numExperts: E, inputChannels: 1, expertChannels: c, stride: 2, useBias: true, seed: seed + 2 });
  const conv2 = new MoEConv2D({ numExperts: E, inputChannels: c, expertChannels: c, stride: 2, useBias: true, seed: seed + 3 });
  const flat = 7 * 7 * c;
  const head = tf.tidy(() => tf.variable(tf.randomNormal([flat, 10], 0, Math.sqrt(1 / flat), 'float32', seed + 4)));
  const headBias = tf.tidy(() => tf.variable(tf.zeros([10])));
  return {
    forward: (x) => tf.tidy(() => {
      const selection = router.route(x);
      const h1 = tf.relu(conv1.apply(x, selection)); // [B, 14, 14, c]
      const h2 = tf.relu(conv2.apply(h1, selection)); // [B, 7, 7, c]
      const logits = tf.add(tf.matMul(tf.reshape(h2, [-1, flat]) as tf.Tensor2D, head as tf.Tensor2D), headBias) as tf.Tensor2D; // [B, 10]
      return { logits, routerScores: selection.scores, expertIndex: selection.expertIndex };
    }),
    routerVariables: router.trainableVariables,
    expertVariables: [...conv1.trainableVariables, ...conv2.trainableVariables, head, headBias],
    dispose: () => {
      router.dispose();
      conv1.dispose();
      conv2.dispose();
      tf.dispose([head, headBias]);
    },
  };
}

/** MNIST as tensors: `[count, 28, 28, 1]` images in [0, 1] and int32 labels. */
export function mnistTensors(split: 'train' | 'test', count: number): { images: tf.Tensor4D; labels: tf.Tensor1D } {
  const d = loadMnist({ split, count });
  return { images: tf.tensor4d(d.images, [count, 28, 28, 1]), labels: tf.tensor1d(Int32Array.from(d.labels), 'int32') };
}

/** Fraction of images routed to each expert (clean inputs). */
export function expertLoad(model: AdvMoEModel, images: tf.Tensor, numExperts: number): number[] {
  const counts = tf.tidy(() => tf.sum(tf.oneHot(model.forward(images, false).expertIndex, numExperts), 0));
  const load = Array.from(counts.dataSync()).map((n) => n / images.shape[0]!);
  counts.dispose();
  return load;
}
