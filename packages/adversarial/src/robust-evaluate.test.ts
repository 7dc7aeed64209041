import * as tf from '@tensorflow/tfjs';
import { expectNoLeakedTensors } from '@moekit/core/testing';
import { describe, expect, it } from 'vitest';
import { pgdAttack, fgsmAttack, type ModelAttack } from './model-attack.js';
import { moeCnn } from './moe-cnn.fixture.js';
import { robustEvaluate } from './robust-evaluate.js';

const images = tf.randomUniform([7, 8, 8, 1], 0, 1, 'float32', 21);
const model = moeCnn({ imageSize: 8, seed: 6 });
// label every image with the model's own prediction for the first 5, a wrong class for the last 2
const predicted = Array.from(tf.argMax(model.forward(images, false).logits, 1).dataSync());
const labels = tf.tensor1d(predicted.map((p, i) => (i < 5 ? p : (p + 1) % 10)), 'int32');

describe('robustEvaluate', () => {
  it('counts clean and robust hits and expert changes (identity attack: nothing changes)', () => {
    const identity: ModelAttack = (_m, x) => tf.clone(x);
    const r = robustEvaluate(model, { images, labels }, identity, { batchSize: 3 });
    // 5 of 7 labels are the model's predictions: 5/7 = 0.7142857 in both; no expert choice changes
    expect(r).toEqual({ count: 7, cleanAccuracy: 5 / 7, robustAccuracy: 5 / 7, expertChangeRate: 0, routerAgreement: 1 });
  });

  it('a PGD attack lowers robust accuracy below clean accuracy and reports the expert change rate', () => {
    const r = robustEvaluate(model, { images, labels }, pgdAttack({ epsilon: 0.3, steps: 5, seed: 1 }));
    expect(r.cleanAccuracy).toBeCloseTo(5 / 7, 10);
    expect(r.robustAccuracy).toBeLessThan(r.cleanAccuracy);
    expect((r.expertChangeRate * 7) % 1).toBeCloseTo(0, 10); // a count of images over 7
    expect(r.routerAgreement).toBeCloseTo(1 - r.expertChangeRate, 12);
  });

  it('rejects bad input by name and leaks nothing', async () => {
    expect(() => robustEvaluate(model, { images, labels }, fgsmAttack({ epsilon: 0.1 }), { batchSize: 0 })).toThrow("robustEvaluate: argument 'batchSize' expected an integer >= 1, got 0");
    expect(() => robustEvaluate(model, { images, labels }, undefined as never)).toThrow("robustEvaluate: argument 'attack' expected a function");
    expect(() => robustEvaluate(model, { images, labels: tf.tensor1d([1, 2, 3, 4, 5, 6, 7]) as tf.Tensor1D }, fgsmAttack({ epsilon: 0.1 }))).toThrow("robustEvaluate: argument 'data.labels' expected dtype int32, got dtype float32");
    await expectNoLeakedTensors(() => robustEvaluate(model, { images, labels }, fgsmAttack({ epsilon: 0.1 }), { batchSize: 4 }));
  });
});
