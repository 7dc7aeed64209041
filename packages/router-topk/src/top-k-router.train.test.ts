import * as tf from '@tensorflow/tfjs';
import { trainOnClusters } from '@moekit/core/testing';
import { describe, expect, it } from 'vitest';
import { TopKRouter, type TopKRouterArgs } from './top-k-router.js';

describe('an MoE with a TopKRouter trains with tf.train.adam', () => {
  const cases: [string, Partial<TopKRouterArgs>][] = [
    ['Shazeer noisy top-2', { k: 2, noise: 'shazeer', importanceWeight: 0.1, loadWeight: 0.1 }],
    ['V-MoE gaussian top-1', { k: 1, noise: 'gaussian', importanceWeight: 0.1, loadWeight: 0.1 }],
    ['GShard top-2, random 2nd expert', { k: 2, noise: 'none', secondExpertPolicy: 'random', importanceWeight: 0.1, loadWeight: 0.1 }],
  ];
  for (const [name, args] of cases) {
    it(`${name}: task loss falls, balance loss falls below its start, every expert is used`, async () => {
      const before = tf.memory().numTensors;
      const router = new TopKRouter({ numExperts: 4, inputDim: 8, seed: 7, ...args });
      const report = trainOnClusters(router, { steps: 80, seed: 3 });
      expect(report.taskLoss.last).toBeLessThan(report.taskLoss.first / 3);
      expect(report.balanceLoss.last).toBeLessThan(report.balanceLoss.first);
      report.finalLoad.forEach((load) => expect(load).toBeGreaterThan(0));
      router.dispose();
      expect(tf.memory().numTensors).toBe(before);
    });
  }
});

