import * as tf from '@tensorflow/tfjs';
import { expectNoLeakedTensors } from '@moekit/core/testing';
import { describe, expect, it } from 'vitest';
import { crossEntropy } from './cross-entropy.js';
import { softmaxKlDivergence } from './softmax-kl-divergence.js';
import { tradesLoss } from './trades-loss.js';

describe('losses', () => {
  it('crossEntropy matches the hand-computed mean', () => {
    // row 0: −log softmax([1,2,3])_2 = log(1 + e^−1 + e^−2) = 0.4076060; row 1: −log(1/3) = 1.0986123; mean 0.7531091
    const ce = crossEntropy(tf.tensor2d([[1, 2, 3], [0, 0, 0]]), tf.tensor1d([2, 0], 'int32'));
    expect(ce.dataSync()[0]).toBeCloseTo(0.7531091, 6);
  });

  it('softmaxKlDivergence is KL(softmax p ‖ softmax q), batch mean', () => {
    // P = [.5, .5], Q = softmax([0, ln 3]) = [.25, .75]: .5·ln(.5/.25) + .5·ln(.5/.75) = .5·ln(4/3) = 0.1438410
    const kl = softmaxKlDivergence(tf.tensor2d([[0, 0], [1, 1]]), tf.tensor2d([[0, Math.log(3)], [1, 1 + Math.log(3)]]));
    expect(kl.dataSync()[0]).toBeCloseTo(0.143841, 6);
    expect(softmaxKlDivergence(tf.tensor2d([[1, -2]]), tf.tensor2d([[1, -2]])).dataSync()[0]).toBeCloseTo(0, 7);
  });

  it('tradesLoss = CE(clean) + β·KL(clean ‖ adversarial), with its unweighted parts', () => {
    // CE([0, 0], y = 1) = ln 2 = 0.6931472; KL = 0.1438410 (above); total = 0.6931472 + 6 · 0.1438410 = 1.5561934
    const { total, natural, robust } = tradesLoss({ cleanLogits: tf.tensor2d([[0, 0]]), adversarialLogits: tf.tensor2d([[0, Math.log(3)]]), labels: tf.tensor1d([1], 'int32'), beta: 6 });
    expect(natural.dataSync()[0]).toBeCloseTo(0.6931472, 6);
    expect(robust.dataSync()[0]).toBeCloseTo(0.143841, 6);
    expect(total.dataSync()[0]).toBeCloseTo(1.5561934, 6);
  });

  it('rejects mismatched shapes and a negative β by name, and leaks nothing', async () => {
    expect(() => crossEntropy(tf.zeros([2, 3]), tf.tensor1d([0], 'int32'))).toThrow("crossEntropy: argument 'labels' expected length 2 (one per row of logits), got length 1");
    expect(() => softmaxKlDivergence(tf.zeros([2, 3]), tf.zeros([2, 4]))).toThrow("argument 'q' expected shape [2, 3]");
    expect(() => tradesLoss({ cleanLogits: tf.zeros([1, 2]), adversarialLogits: tf.zeros([1, 2]), labels: tf.tensor1d([0], 'int32'), beta: -1 })).toThrow("tradesLoss: argument 'beta' expected a finite number >= 0, got -1");
    const clean = tf.randomNormal([4, 10]);
    const adv = tf.randomNormal([4, 10]);
    const labels = tf.tensor1d([1, 2, 3, 4], 'int32');
    await expectNoLeakedTensors(() => {
      const t = tradesLoss({ cleanLogits: clean, adversarialLogits: adv, labels });
      tf.dispose([t.total, t.natural, t.robust]);
    });
    tf.dispose([clean, adv, labels]);
  });
});
