/**
 * AdvMoE's MoE-CNN at MNIST size (Zhang et al. 2023, arXiv:2308.10110), built from experts-conv: one
 * image-level router (a small CNN → dense → top-1, straight-through estimator) whose choice selects the
 * same channel group in both MoE convolutions, then a dense head. It satisfies `AdvMoEModel`.
 */
import * as tf from '@tensorflow/tfjs';
import type { AdvMoEModel } from '@moekit/adversarial';
import { loadMnist } from '@moekit/datasets';
import { ImageRouter, MoEConv2D, type ImageGateInput } from '@moekit/experts-conv';

/** Sizes of the MoE-CNN. */
export interface AdvMoECnnOptions {
  /** Experts E (channel groups). */
  numExperts: number;
  /** Channels of each expert's group in both MoE convs. */
  channels: number;
  /** Seed of every initialiser. */
  seed: number;
}

/**
 * The router's feature network, a CNN classifier body as the reference's router (a ResNet-20 in
 * OPTML-Group/Robust-MoE-CNN `models/layers/router.py`), at this scale: conv 3×3 (stride 2, 8 filters)
 * → ReLU → conv 3×3 (stride 2, 8 filters) → ReLU → flatten → normalise per image (zero mean, unit
 * variance), `[B, 28, 28, 1]` → `[B, 392]`. A single conv with global pooling (the earlier gate) cannot
 * tell digits apart, so it could not learn the reference's class-to-expert routing. The normalisation
 * stands in for the reference router's batch norm: without it the straight-through gradient, which does
 * not shrink as the scores grow, made both conv layers and the dense layer grow together and the scores
 * grew exponentially (|s| from 1 to 292 in 20 SGD steps at 0.01) until training diverged.
 */
class CnnGate implements ImageGateInput {
  readonly trainableVariables: tf.Variable[];
  private readonly k1: tf.Variable;
  private readonly b1: tf.Variable;
  private readonly k2: tf.Variable;
  private readonly b2: tf.Variable;

  constructor(seed: number) {
    this.k1 = heNormal([3, 3, 1, 8], seed); // [3, 3, 1, 8]
    this.b1 = tf.tidy(() => tf.variable(tf.zeros([8])));
    this.k2 = heNormal([3, 3, 8, 8], seed + 10); // [3, 3, 8, 8]
    this.b2 = tf.tidy(() => tf.variable(tf.zeros([8])));
    this.trainableVariables = [this.k1, this.b1, this.k2, this.b2];
  }

  apply(images: tf.Tensor): tf.Tensor2D {
    return tf.tidy(() => {
      const h1 = tf.relu(tf.add(tf.conv2d(images as tf.Tensor4D, this.k1 as tf.Tensor4D, 2, 'same'), this.b1)) as tf.Tensor4D; // [B, 14, 14, 8]
      const h2 = tf.relu(tf.add(tf.conv2d(h1, this.k2 as tf.Tensor4D, 2, 'same'), this.b2)); // [B, 7, 7, 8]
      const flat = tf.reshape(h2, [-1, 7 * 7 * 8]); // [B, 392]
      const { mean, variance } = tf.moments(flat, 1, true); // [B, 1] each
      return tf.div(tf.sub(flat, mean), tf.sqrt(tf.add(variance, 1e-5))) as tf.Tensor2D; // [B, 392] normalised per image
    });
  }

  dispose(): void {
    tf.dispose(this.trainableVariables);
  }
}

/** A He-normal kernel variable `[k, k, Cin, Cout]` (as MoEConv2D draws its own). */
function heNormal(shape: [number, number, number, number], seed: number): tf.Variable {
  const fanIn = shape[0] * shape[1] * shape[2];
  return tf.tidy(() => tf.variable(tf.randomNormal(shape, 0, Math.sqrt(2 / fanIn), 'float32', seed)));
}

/** An MoE-CNN for 28×28×1 images: router(x); MoEConv(stride 2) → ReLU → MoEConv(stride 2) → ReLU → dense 10. */
export function advMoECnn(options: AdvMoECnnOptions): AdvMoEModel & { dispose(): void } {
  const { numExperts: E, channels: c, seed } = options;
  const router = new ImageRouter({ numExperts: E, gate: new CnnGate(seed), gateDim: 7 * 7 * 8, seed: seed + 1 });
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

/**
 * The dense CNN of the same active width as {@link advMoECnn}: the same two convolutions with `channels`
 * output channels each (what one expert of the MoE-CNN runs per image) and the same head, no router. It
 * satisfies `AdvMoEModel` with no router variables (one expert: scores `[B, 1]` zero, every index 0), the
 * form `adversarialTrain` and `robustEvaluate` accept as a dense baseline.
 */
export function denseCnn(options: Omit<AdvMoECnnOptions, 'numExperts'>): AdvMoEModel & { dispose(): void } {
  const { channels: c, seed } = options;
  const k1 = heNormal([3, 3, 1, c], seed + 2);
  const b1 = tf.tidy(() => tf.variable(tf.zeros([c])));
  const k2 = heNormal([3, 3, c, c], seed + 3);
  const b2 = tf.tidy(() => tf.variable(tf.zeros([c])));
  const flat = 7 * 7 * c;
  const head = tf.tidy(() => tf.variable(tf.randomNormal([flat, 10], 0, Math.sqrt(1 / flat), 'float32', seed + 4)));
  const headBias = tf.tidy(() => tf.variable(tf.zeros([10])));
  const variables = [k1, b1, k2, b2, head, headBias];
  return {
    forward: (x) => tf.tidy(() => {
      const B = x.shape[0]!;
      const h1 = tf.relu(tf.add(tf.conv2d(x as tf.Tensor4D, k1 as tf.Tensor4D, 2, 'same'), b1)); // [B, 14, 14, c]
      const h2 = tf.relu(tf.add(tf.conv2d(h1 as tf.Tensor4D, k2 as tf.Tensor4D, 2, 'same'), b2)); // [B, 7, 7, c]
      const logits = tf.add(tf.matMul(tf.reshape(h2, [-1, flat]) as tf.Tensor2D, head as tf.Tensor2D), headBias) as tf.Tensor2D; // [B, 10]
      return { logits, routerScores: tf.zeros([B, 1]) as tf.Tensor2D, expertIndex: tf.zeros([B], 'int32') as tf.Tensor1D };
    }),
    routerVariables: [],
    expertVariables: variables,
    dispose: () => tf.dispose(variables),
  };
}

/** MNIST as tensors: `[count, 28, 28, 1]` images in [0, 1] and int32 labels. */
export function mnistTensors(split: 'train' | 'test', count: number): { images: tf.Tensor4D; labels: tf.Tensor1D } {
  const d = loadMnist({ split, count });
  return { images: tf.tensor4d(d.images, [count, 28, 28, 1]), labels: tf.tensor1d(Int32Array.from(d.labels), 'int32') };
}

/** Fraction of images routed to each expert (clean inputs, evaluation mode), counted in batches of 500. */
export function expertLoad(model: AdvMoEModel, images: tf.Tensor, numExperts: number): number[] {
  const n = images.shape[0]!;
  const load = new Array<number>(numExperts).fill(0);
  for (let start = 0; start < n; start += 500) {
    const counts = tf.tidy(() => {
      const batch = tf.slice(images, [start, 0, 0, 0], [Math.min(500, n - start), -1, -1, -1]);
      return tf.sum(tf.oneHot(model.forward(batch, false).expertIndex, numExperts), 0); // [E]
    });
    counts.dataSync().forEach((c, e) => { load[e]! += c; });
    counts.dispose();
  }
  return load.map((count) => count / n);
}
