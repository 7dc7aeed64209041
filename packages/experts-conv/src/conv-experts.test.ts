import * as tf from '@tensorflow/tfjs';
import { MixtureOfExperts } from '@moekit/core';
import { expectNoLeakedTensors, expectTensorsClose } from '@moekit/core/testing';
import { TopKRouter } from '@moekit/router-topk';
import { describe, expect, it } from 'vitest';
import { ConvExperts } from './conv-experts.js';
import { GapGate } from './gap-gate.js';

describe('ConvExperts', () => {
  it('applies each expert to its own images: relu(x ⊛ K_e) for one 1×1 conv', () => {
    const bank = new ConvExperts({ numExperts: 2, inputChannels: 2, width: 2, outputChannels: 1, layers: 1, kernelSize: 1, norm: 'none', residual: false });
    bank.convLayers[0]!.kernel.assign(tf.tensor5d([[[[[1], [2]]]], [[[[-1], [1]]]]], [2, 1, 1, 2, 1])); // K_0 = [1, 2]ᵀ, K_1 = [-1, 1]ᵀ
    // image 0 (1×1 pixel, channels [3, 4]) → expert 0: 3 + 8 = 11; image 1 ([5, 1]) → expert 1: relu(-5 + 1) = 0
    const rows = tf.tensor4d([3, 4, 5, 1], [2, 1, 1, 2]);
    const y = bank.applyGrouped(rows, [1, 1], { training: false });
    expect(y.shape).toEqual([2, 1, 1, 1]);
    expectTensorsClose(tf.reshape(y, [2]), [11, 0], { atol: 0 });
    tf.dispose([rows, y]);
    bank.dispose();
  });

  it('normalises with each expert’s own batch statistics in training and updates only its running statistics', () => {
    const bank = new ConvExperts({ numExperts: 3, inputChannels: 1, width: 1, layers: 1, kernelSize: 1, residual: false, seed: 1 });
    bank.convLayers[0]!.kernel.assign(tf.ones([3, 1, 1, 1, 1]));
    // expert 0 gets images with pixel values {1, 3} (mean 2, variance 1), expert 1 none, expert 2 {10, 10, 10, 14} (mean 11, variance 3)
    const rows = tf.tensor4d([1, 3, 10, 10, 10, 14], [6, 1, 1, 1]);
    const y = bank.applyGrouped(rows, [2, 0, 4], { training: true });
    // relu((x − mean) / √(var + 1e-5)): expert 0 → relu(±1); expert 2 → relu((−1, −1, −1, 3) / √3)
    expectTensorsClose(tf.reshape(y, [6]), [0, 1, 0, 0, 0, 3 / Math.sqrt(3)], { atol: 1e-4 });
    // running = 0.9 · running + 0.1 · batch; expert 1 unchanged (mean 0, variance 1)
    expectTensorsClose(bank.convLayers[0]!.movingMean!, [[0.2], [0], [1.1]], { atol: 1e-6 });
    expectTensorsClose(bank.convLayers[0]!.movingVariance!, [[1], [1], [0.9 + 0.3]], { atol: 1e-6 });
    // evaluation normalises with the running statistics: expert 2, x = 14 → (14 − 1.1) / √(1.2 + 1e-5)
    const one = tf.tensor4d([14], [1, 1, 1, 1]);
    const evalY = bank.applyGrouped(one, [0, 0, 1], { training: false });
    expectTensorsClose(tf.reshape(evalY, [1]), [(14 - 1.1) / Math.sqrt(1.2 + 1e-5)], { atol: 1e-4 });
    tf.dispose([rows, y, one, evalY]);
    bank.dispose();
  });

  it('adds the residual (through a 1×1 projection when channels or stride change) and reports its output shape', () => {
    const same = new ConvExperts({ numExperts: 2, inputChannels: 3, width: 4, seed: 2 });
    const wider = new ConvExperts({ numExperts: 2, inputChannels: 3, width: 4, outputChannels: 6, stride: 2, seed: 3 });
    expect(same.projection).toBeUndefined();
    expect(wider.projection?.shape).toEqual([2, 1, 1, 3, 6]);
    expect(wider.outputFeatureShape([7, 8, 3])).toEqual([4, 4, 6]);
    const rows = tf.randomNormal([5, 7, 8, 3], 0, 1, 'float32', 4);
    const y = wider.applyGrouped(rows, [2, 3], { training: true });
    expect(y.shape).toEqual([5, 4, 4, 6]);
    // zero kernels: BN(0) = β = 0 everywhere, so the output is relu(x) (no projection)
    same.convLayers.forEach((l) => l.kernel.assign(tf.zerosLike(l.kernel)));
    const small = tf.randomNormal([4, 3, 3, 3], 0, 1, 'float32', 5);
    const z = same.applyGrouped(small, [1, 3], { training: false });
    expectTensorsClose(z, tf.relu(small), { atol: 1e-6 });
    tf.dispose([rows, y, small, z]);
    same.dispose();
    wider.dispose();
  });

  it('matches between padded and grouped buffers in evaluation; padded training with batch norm is refused', () => {
    const bank = new ConvExperts({ numExperts: 2, inputChannels: 2, width: 3, seed: 6 });
    const buffers = tf.randomNormal([2, 3, 4, 4, 2], 0, 1, 'float32', 7);
    const padded = bank.apply(buffers, { training: false });
    const grouped = bank.applyGrouped(tf.reshape(buffers, [6, 4, 4, 2]), [3, 3], { training: false });
    expectTensorsClose(tf.reshape(padded, [6, 4, 4, 2]), grouped, { atol: 1e-5 });
    expect(() => bank.apply(buffers, { training: true })).toThrow("ConvExperts.apply: argument 'layout' expected 'grouped' while training with batch norm");
    tf.dispose([buffers, padded, grouped]);
    bank.dispose();
  });

  it('names bad input', () => {
    expect(() => new ConvExperts({ numExperts: 2, inputChannels: 3, width: 0 })).toThrow("ConvExperts: argument 'width' expected an integer >= 1, got 0");
    expect(() => new ConvExperts({ numExperts: 2, inputChannels: 3, width: 2, kernelSize: 2 })).toThrow("ConvExperts: argument 'kernelSize' expected an odd integer (same padding), got 2");
    const bank = new ConvExperts({ numExperts: 2, inputChannels: 3, width: 2 });
    const flat = tf.zeros([4, 3]);
    const wrongWidth = tf.zeros([2, 4, 4, 5]);
    expect(() => bank.applyGrouped(flat, [2, 2], { training: false })).toThrow("ConvExperts.applyGrouped: argument 'rows' expected rank 4, got rank 2 (shape [4, 3])");
    expect(() => bank.applyGrouped(wrongWidth, [1, 1], { training: false })).toThrow("ConvExperts.applyGrouped: argument 'rows' expected 3 channels (inputChannels) in the last axis, got shape [2, 4, 4, 5]");
    tf.dispose([flat, wrongWidth]);
    bank.dispose();
  });

  it('routes images per image inside MixtureOfExperts, with gradients to kernels, gate and norms, and no leaks', async () => {
    const experts = new ConvExperts({ numExperts: 3, inputChannels: 4, width: 2, seed: 8 });
    const router = new TopKRouter({ numExperts: 3, k: 1, noise: 'shazeer', seed: 9 });
    const moe = new MixtureOfExperts({ router, experts, layout: 'grouped', capacity: { train: 0 } });
    const gate = new GapGate();
    const images = tf.randomNormal([8, 5, 5, 4], 0, 1, 'float32', 10);
    const step = () => {
      const { value, grads } = tf.variableGrads(() => {
        const out = moe.apply(images, { training: true, gateInput: gate.apply(images) });
        expect(out.output.shape).toEqual([8, 5, 5, 4]);
        return tf.add(tf.mean(tf.square(out.output)), out.auxLosses.total) as tf.Scalar;
      }, moe.trainableVariables);
      const norms = experts.trainableVariables.map((v) => tf.tidy(() => tf.norm(grads[v.name]!).dataSync()[0]!));
      tf.dispose([value, ...Object.values(grads)]);
      return norms;
    };
    const norms = step();
    expect(norms.every((n) => Number.isFinite(n))).toBe(true);
    expect(norms.filter((n) => n > 0).length).toBeGreaterThan(0);
    await expectNoLeakedTensors(() => {
      step();
    });
    images.dispose();
    moe.dispose();
  });
});
