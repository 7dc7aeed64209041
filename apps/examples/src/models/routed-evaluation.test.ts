import * as tf from '@tensorflow/tfjs';
import { MoELayer } from '@moekit/layers';
import { FeedForwardExperts } from '@moekit/experts-ffn';
import { TopKRouter } from '@moekit/router-topk';
import { beforeAll, describe, expect, it } from 'vitest';
import { evaluateRouted } from './routed-evaluation.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('evaluateRouted', () => {
  it('scores softmax outputs over every batch: uniform over 4 classes costs ln 4 and argmax picks class 0', () => {
    const model = tf.sequential({ layers: [tf.layers.dense({ units: 4, activation: 'softmax', inputShape: [3], kernelInitializer: 'zeros' })] });
    const x = tf.ones([5, 3]);
    const y = tf.tensor2d([[0], [1], [0], [3], [2]]); // two of five targets are class 0
    const before = tf.memory().numTensors;
    const r = evaluateRouted(model, x, y, { batchSize: 2 }); // batches of 2, 2, 1
    expect(tf.memory().numTensors).toBe(before);
    expect(r.crossEntropy).toBeCloseTo(Math.log(4), 6);
    expect(r.accuracy).toBeCloseTo(2 / 5, 12);
    expect(r).toMatchObject({ load: [], needed: [], droppedCount: 0, droppedFraction: 0, tokensWithoutExpert: 0 });
    tf.dispose([x, y]);
    model.dispose();
  });

  it('sums the MoE load of every batch, not just the last: 7 samples × k = 2 pairs, dropless', () => {
    const moe = new MoELayer({ router: new TopKRouter({ numExperts: 4, k: 2, seed: 1, kernelInitializer: 'glorotUniform' }), experts: new FeedForwardExperts({ numExperts: 4, inputDim: 3, hiddenDim: 5, seed: 2 }), capacity: { train: 0, eval: 0 }, inputShape: [3] });
    const model = tf.sequential({ layers: [moe, tf.layers.dense({ units: 2, activation: 'softmax' })] });
    const x = tf.randomNormal([7, 3], 0, 1, 'float32', 3);
    const y = tf.zeros([7, 1]);
    const r = evaluateRouted(model, x, y, { batchSize: 3, moe }); // batches of 3, 3, 1
    expect(r.load.reduce((a, b) => a + b, 0)).toBe(14);
    expect(r.needed).toEqual(r.load);
    expect(r.droppedFraction).toBe(0);
    expect(r.tokensWithoutExpert).toBe(0);
    tf.dispose([x, y]);
    model.dispose();
  });
});
