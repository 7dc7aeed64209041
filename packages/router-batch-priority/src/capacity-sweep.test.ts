import * as tf from '@tensorflow/tfjs';
import { MixtureOfExperts } from '@moekit/core';
import { LinearExpertBank, LinearTopKRouter } from '@moekit/core/testing';
import { describe, expect, it } from 'vitest';
import { capacitySweep, type CapacitySweepModel } from './capacity-sweep.js';

/** A tiny classifier: the MoE's linear experts map 6-d inputs to 4 class scores; class = input cluster. */
function trainedModel(): { model: CapacitySweepModel; x: tf.Tensor2D; labels: tf.Tensor1D } {
  const router = new LinearTopKRouter({ inputDim: 6, numExperts: 4, k: 1, balanceWeight: 0.05, seed: 1 });
  const experts = new LinearExpertBank({ numExperts: 4, inputDim: 6, outputDim: 4, seed: 2 });
  const moe = new MixtureOfExperts({ router, experts, capacity: { train: 2 } });
  const centers = tf.mul(tf.randomNormal([4, 6], 0, 1, 'float32', 3), 2);
  const labels = tf.randomUniformInt([512], 0, 4, 4) as tf.Tensor1D;
  const x = tf.tidy(() => tf.add(tf.gather(centers, labels), tf.randomNormal([512, 6], 0, 1, 'float32', 5))) as tf.Tensor2D;
  const optimizer = tf.train.adam(0.05);
  for (let step = 0; step < 60; step++) {
    optimizer.minimize(() => {
      const r = moe.apply(x, { training: true });
      return tf.add(tf.losses.softmaxCrossEntropy(tf.oneHot(labels, 4), r.output), r.auxLosses.total) as tf.Scalar;
    }, false, moe.trainableVariables);
  }
  optimizer.dispose();
  centers.dispose();
  const predict = (input: tf.Tensor, layer: MixtureOfExperts) => {
    const r = layer.apply(input, { training: false });
    tf.dispose(Object.values(r.auxLosses));
    return r.output;
  };
  return { model: { router, experts, predict }, x, labels };
}

describe('capacitySweep', () => {
  it('drops more as the ratio shrinks, and BPR keeps accuracy where batch order loses it', () => {
    const { model, x, labels } = trainedModel();
    const before = tf.memory().numTensors;
    const points = capacitySweep({ model, data: { x, labels }, ratios: [0.25, 0.5, 1, 2], batchSize: 128 });
    expect(tf.memory().numTensors).toBe(before);
    expect(points.map((p) => p.ratio)).toEqual([0.25, 0.5, 1, 2]);
    // capacity ceil(c · 128 / 4): 8 at c = 0.25 keeps 32 of 128 → at least 75 % dropped
    expect(points[0]!.vanilla.droppedFraction).toBeGreaterThanOrEqual(0.75);
    expect(points[0]!.bpr.droppedFraction).toBeCloseTo(points[0]!.vanilla.droppedFraction, 10);
    for (let i = 1; i < points.length; i++) expect(points[i]!.vanilla.droppedFraction).toBeLessThanOrEqual(points[i - 1]!.vanilla.droppedFraction);
    expect(points[3]!.vanilla.droppedFraction).toBe(0); // c = 2: nothing dropped, both orders agree
    expect(points[3]!.bpr.accuracy).toBe(points[3]!.vanilla.accuracy);
    expect(points[3]!.vanilla.accuracy).toBeGreaterThan(0.9);
    expect(points[0]!.bpr.accuracy).toBeGreaterThanOrEqual(points[0]!.vanilla.accuracy);
    tf.dispose([x, labels]);
    model.router.dispose();
    model.experts.dispose();
  });

  it('rejects capacity ratios ≤ 0 and mismatched labels', () => {
    const model = { router: new LinearTopKRouter({ inputDim: 2, numExperts: 2 }), experts: new LinearExpertBank({ numExperts: 2, inputDim: 2 }), predict: () => tf.zeros([1, 2]) };
    const x = tf.zeros([4, 2]);
    const labels = tf.zeros([4], 'int32') as tf.Tensor1D;
    expect(() => capacitySweep({ model, data: { x, labels }, ratios: [0.5, 0] })).toThrow("capacitySweep: argument 'ratios' expected capacity ratios > 0, got 0");
    expect(() => capacitySweep({ model, data: { x, labels }, ratios: [-1] })).toThrow("capacitySweep: argument 'ratios' expected capacity ratios > 0, got -1");
    const short = tf.zeros([3], 'int32') as tf.Tensor1D;
    expect(() => capacitySweep({ model, data: { x, labels: short }, ratios: [1] })).toThrow("capacitySweep: argument 'data.labels' expected 4 labels (one per row of data.x), got 3");
    tf.dispose([x, labels, short]);
    model.router.dispose();
    model.experts.dispose();
  });
});
