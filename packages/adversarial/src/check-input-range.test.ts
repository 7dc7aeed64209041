import * as tf from '@tensorflow/tfjs';
import { expectNoLeakedTensors } from '@moekit/core/testing';
import { describe, expect, it } from 'vitest';
import { fgsm } from './fgsm.js';
import { pgd } from './pgd.js';
import { fgsmAttack } from './model-attack.js';
import { moeCnn } from './moe-cnn.fixture.js';
import { robustEvaluate } from './robust-evaluate.js';

const objective = (x: tf.Tensor) => tf.sum(tf.square(x)) as tf.Scalar;

describe('attack inputs: empty and non-finite images are named errors, not a range of [NaN, NaN]', () => {
  it('fgsm and pgd reject an empty batch by its shape', () => {
    const empty = tf.zeros([0, 2, 2, 1]);
    expect(() => fgsm(objective, empty, { epsilon: 0.1 })).toThrow("fgsm: argument 'images' expected at least one element, got shape [0, 2, 2, 1]");
    expect(() => pgd(objective, empty, { epsilon: 0.1 })).toThrow("pgd: argument 'images' expected at least one element, got shape [0, 2, 2, 1]");
    empty.dispose();
  });

  it('fgsm and pgd name the first non-finite value', () => {
    const bad = tf.tensor4d([0.5, NaN, 0.2, Infinity], [1, 2, 2, 1]);
    expect(() => fgsm(objective, bad, { epsilon: 0.1 })).toThrow("fgsm: argument 'images' expected finite values, got NaN at flat index 1 (shape [1, 2, 2, 1])");
    expect(() => pgd(objective, bad, { epsilon: 0.1 })).toThrow("pgd: argument 'images' expected finite values, got NaN at flat index 1 (shape [1, 2, 2, 1])");
    bad.dispose();
  });

  it('robustEvaluate rejects an empty data set instead of reporting NaN accuracies, and leaks nothing', async () => {
    const model = moeCnn({ imageSize: 8, seed: 6 });
    const images = tf.zeros([0, 8, 8, 1]);
    const labels = tf.zeros([0], 'int32') as tf.Tensor1D;
    expect(() => robustEvaluate(model, { images, labels }, fgsmAttack({ epsilon: 0.1 }))).toThrow("robustEvaluate: argument 'data.images' expected at least one image, got shape [0, 8, 8, 1]");
    await expectNoLeakedTensors(() => {
      try { robustEvaluate(model, { images, labels }, fgsmAttack({ epsilon: 0.1 })); } catch { /* counted below */ }
    });
    tf.dispose([images, labels]);
    model.dispose();
  });
});
