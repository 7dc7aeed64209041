import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { trainToyRegression } from './toy-regression.js';

describe('the demo task at reduced size', () => {
  it('the MoE learns the per-cluster maps that a dense layer cannot, and no tensor leaks', async () => {
    await tf.setBackend('cpu');
    const before = tf.memory().numTensors;
    const { history, moeTestLoss, denseTestLoss } = trainToyRegression({ numSamples: 1024, epochs: 10, batchSize: 64 });
    expect(history).toHaveLength(10);
    expect(history[9]!.moeLoss).toBeLessThan(history[0]!.moeLoss / 4);
    expect(moeTestLoss).toBeLessThan(denseTestLoss / 2);
    // every expert is used: the gate split the clusters instead of collapsing onto one expert
    history[9]!.load.forEach((l) => expect(l).toBeGreaterThan(0));
    expect(tf.memory().numTensors).toBe(before);
  });
});
