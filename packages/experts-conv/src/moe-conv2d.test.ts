import * as tf from '@tensorflow/tfjs';
import { expectNoLeakedTensors, expectTensorsClose } from '@moekit/core/testing';
import { describe, expect, it } from 'vitest';
import { ConvGate } from './conv-gate.js';
import { GapGate } from './gap-gate.js';
import { disposeSelection, ImageRouter } from './image-router.js';
import { MoEConv2D } from './moe-conv2d.js';

// One 1×1 image with one channel, value 1; E = 2 groups of G = 1 channel; kernel [2, 3]: conv = [2, 3].
function setup(estimator: 'straightThrough' | 'gate') {
  const router = new ImageRouter({ numExperts: 2, gate: new GapGate(), gateDim: 1, estimator });
  router.kernel.assign(tf.tensor2d([[0.5, 1.5]])); // scores for GAP = 1: [0.5, 1.5] → expert 1
  const conv = new MoEConv2D({ numExperts: 2, inputChannels: 1, expertChannels: 1, kernelSize: 1 });
  conv.kernel.assign(tf.tensor4d([2, 3], [1, 1, 1, 2]));
  return { router, conv, x: tf.ones([1, 1, 1, 1]) };
}

describe('ImageRouter and MoEConv2D (AdvMoE)', () => {
  it('keeps each image’s chosen channel group; straight-through sends ⟨conv_e, dy⟩ to the chosen score only', () => {
    const { router, conv, x } = setup('straightThrough');
    const selection = router.route(x);
    expect(Array.from(selection.expertIndex.dataSync())).toEqual([1]);
    expectTensorsClose(selection.weights, [[0, 1]], { atol: 0 });
    const y = conv.apply(x, selection);
    expectTensorsClose(y, [[[[3]]]], { atol: 0 }); // group 1 of conv = [2, 3]
    disposeSelection(selection);
    // L = Σ y: ∂L/∂s = [0, ⟨conv_1, 1⟩] = [0, 3] (AdvMoE GetMask: the one-hot's gradient, chosen entry only);
    // ∂L/∂kernel bias-free: only group 1's weight sees the image: [0, 1]
    const { grads } = tf.variableGrads(() => tf.sum(conv.apply(x, router.route(x))) as tf.Scalar, [router.kernel, conv.kernel]);
    expectTensorsClose(grads[router.kernel.name]!, [[0, 3]], { atol: 1e-6 }); // ∂s/∂W = GAP(x)ᵀ = 1
    expectTensorsClose(grads[conv.kernel.name]!, tf.tensor4d([0, 1], [1, 1, 1, 2]), { atol: 1e-6 });
    tf.dispose([x, y, ...Object.values(grads)]);
    router.dispose();
    conv.dispose();
  });

  it('with the gate estimator, scales the chosen group by its softmax probability', () => {
    const { router, conv, x } = setup('gate');
    const selection = router.route(x);
    const p1 = 1 / (1 + Math.exp(-1)); // softmax([0.5, 1.5])_1 = 0.731059
    expectTensorsClose(selection.weights, [[0, p1]], { atol: 1e-6 });
    const y = conv.apply(x, selection);
    expectTensorsClose(y, [[[[3 * p1]]]], { atol: 1e-6 });
    // ∂(3·p1)/∂s = 3·p1·(onehot_1 − p) = 3·p1·[−p0, p0]
    const { grads } = tf.variableGrads(() => tf.sum(conv.apply(x, router.route(x))) as tf.Scalar, [router.kernel]);
    expectTensorsClose(grads[router.kernel.name]!, [[-3 * p1 * (1 - p1), 3 * p1 * (1 - p1)]], { atol: 1e-6 });
    disposeSelection(selection);
    tf.dispose([x, y, ...Object.values(grads)]);
    router.dispose();
    conv.dispose();
  });

  it('drives several layers with one choice per image, from a conv gate, without leaks', async () => {
    const router = new ImageRouter({ numExperts: 3, gate: new ConvGate({ inputChannels: 1, filters: 4, seed: 1 }), gateDim: 4, seed: 2 });
    const conv1 = new MoEConv2D({ numExperts: 3, inputChannels: 1, expertChannels: 4, seed: 3 });
    const conv2 = new MoEConv2D({ numExperts: 3, inputChannels: 4, expertChannels: 4, stride: 2, seed: 4 });
    const images = tf.randomNormal([5, 8, 8, 1], 0, 1, 'float32', 5);
    const forward = () => tf.tidy(() => {
      const selection = router.route(images);
      return conv2.apply(tf.relu(conv1.apply(images, selection)), selection);
    });
    const y = forward();
    expect(y.shape).toEqual([5, 4, 4, 4]);
    y.dispose();
    await expectNoLeakedTensors(() => {
      const { value, grads } = tf.variableGrads(() => tf.mean(tf.square(forward())) as tf.Scalar, [...router.trainableVariables, ...conv1.trainableVariables, ...conv2.trainableVariables]);
      expect(Object.keys(grads).length).toBe(6); // conv gate kernel and bias, router kernel and bias, two MoE conv kernels
      tf.dispose([value, ...Object.values(grads)]);
    });
    const wrong = tf.zeros([5, 8, 8, 2]);
    const selection = router.route(images);
    expect(() => conv1.apply(wrong, selection)).toThrow("MoEConv2D.apply: argument 'x' expected 1 channels (inputChannels), got shape [5, 8, 8, 2]");
    expect(() => router.route(tf.zeros([5, 8]))).toThrow("ImageRouter.route: argument 'images' expected rank 4, got rank 2 (shape [5, 8])");
    disposeSelection(selection);
    tf.dispose([images, wrong]);
    router.dispose();
    conv1.dispose();
    conv2.dispose();
  });
});
