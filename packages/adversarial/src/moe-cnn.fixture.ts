// Test fixture (not published): AdvMoE's MoE-CNN at MNIST size, built from experts-conv's ImageRouter and
// MoEConv2D: one image-level router (conv gate → dense → top-1, straight-through) shared by two MoE convs.
import * as tf from '@tensorflow/tfjs-core';
import { ConvGate, ImageRouter, MoEConv2D } from '@moekit/experts-conv';
import type { AdvMoEModel } from './adv-moe-model.js';

/** Sizes of the fixture MoE-CNN. */
export interface MoECnnOptions {
  /** Experts E. Default 4. */
  numExperts?: number;
  /** Channels of each expert's group. Default 8. */
  channels?: number;
  /** Side of the square one-channel input images (a multiple of 4). Default 28. */
  imageSize?: number;
  /** Seed of every initialiser. Default 1. */
  seed?: number;
}

/** router(x) → conv1 (stride 2, chosen group) → ReLU → conv2 (stride 2, chosen group) → ReLU → dense 10. */
export function moeCnn(options: MoECnnOptions = {}): AdvMoEModel & { dispose(): void } {
  const E = options.numExperts ?? 4;
  const c = options.channels ?? 8;
  const size = options.imageSize ?? 28;
  const seed = options.seed ?? 1;
  const router = new ImageRouter({ numExperts: E, gate: new ConvGate({ inputChannels: 1, filters: 8, stride: 2, seed }), gateDim: 8, seed: seed + 1 });
  const conv1 = new MoEConv2D({ numExperts: E, inputChannels: 1, expertChannels: c, stride: 2, useBias: true, seed: seed + 2 });
  const conv2 = new MoEConv2D({ numExperts: E, inputChannels: c, expertChannels: c, stride: 2, useBias: true, seed: seed + 3 });
  const flat = (size / 4) * (size / 4) * c;
  const head = tf.tidy(() => tf.variable(tf.randomNormal([flat, 10], 0, Math.sqrt(1 / flat), 'float32', seed + 4)));
  const headBias = tf.tidy(() => tf.variable(tf.zeros([10])));
  return {
    forward: (x, _training) => tf.tidy(() => {
      const selection = router.route(x);
      const h1 = tf.relu(conv1.apply(x, selection)); // [B, size/2, size/2, c]
      const h2 = tf.relu(conv2.apply(h1, selection)); // [B, size/4, size/4, c]
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
