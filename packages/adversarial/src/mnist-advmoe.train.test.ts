// AdvMoE at reduced size on real MNIST (wasm backend): the same MoE-CNN (fixed seed) trained without
// adversarial examples and with advMoETrain, both evaluated under the same PGD attack.
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { leaveWasmTestBackend, useWasmTestBackend } from '@moekit/platform/testing';
import { loadMnist } from '@moekit/datasets';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { advMoETrain } from './adv-moe-train.js';
import { crossEntropy } from './cross-entropy.js';
import { epochOrder, takeBatch } from './labelled-images.js';
import { pgdAttack } from './model-attack.js';
import { moeCnn } from './moe-cnn.fixture.js';
import { robustEvaluate } from './robust-evaluate.js';

const TRAIN = 1000;
const TEST = 500;
const BATCH = 50;
const EPOCHS = 2;
const EPSILON = 0.1;
const SEED = 7;

beforeAll(useWasmTestBackend);
afterAll(leaveWasmTestBackend);

function tensors(split: 'train' | 'test', count: number) {
  const d = loadMnist({ split, count });
  return { images: tf.tensor4d(d.images, [count, 28, 28, 1]), labels: tf.tensor1d(Int32Array.from(d.labels), 'int32') };
}

describe('AdvMoE on MNIST (wasm, reduced size)', () => {
  it('trains, and its robust accuracy beats the same MoE-CNN trained without adversarial examples', () => {
    const train = tensors('train', TRAIN);
    const test = tensors('test', TEST);
    const attack = pgdAttack({ epsilon: EPSILON, steps: 5, seed: SEED });

    const standard = moeCnn({ seed: SEED });
    const optimizer = tf.train.adam(3e-3);
    let t0 = performance.now();
    for (let epoch = 0; epoch < EPOCHS; epoch++) {
      const order = epochOrder(TRAIN, true, SEED + epoch);
      for (let start = 0; start < TRAIN; start += BATCH) {
        const { images, labels } = takeBatch(train, order.subarray(start, start + BATCH));
        tf.dispose([optimizer.minimize(() => crossEntropy(standard.forward(images, true).logits, labels), true, [...standard.expertVariables, ...standard.routerVariables])!, images, labels]);
      }
    }
    const standardSeconds = (performance.now() - t0) / 1000;
    const standardEval = robustEvaluate(standard, test, attack);

    const robust = moeCnn({ seed: SEED });
    t0 = performance.now();
    const { history } = advMoETrain(robust, train, { attack: { epsilon: EPSILON, steps: 3 }, epochs: EPOCHS, batchSize: BATCH, expertLearningRate: 3e-3, routerLearningRate: 1e-3, seed: SEED });
    const advSeconds = (performance.now() - t0) / 1000;
    const robustEval = robustEvaluate(robust, test, attack);
    const last = history[history.length - 1]!;
    console.log(`no adversarial examples: clean ${standardEval.cleanAccuracy.toFixed(3)}, PGD-5 ε=${EPSILON} ${standardEval.robustAccuracy.toFixed(3)}, expert change ${standardEval.expertChangeRate.toFixed(3)} (${standardSeconds.toFixed(1)} s)`);
    console.log(`AdvMoE: clean ${robustEval.cleanAccuracy.toFixed(3)}, PGD-5 ε=${EPSILON} ${robustEval.robustAccuracy.toFixed(3)}, expert change ${robustEval.expertChangeRate.toFixed(3)} (${advSeconds.toFixed(1)} s); last step: expert loss ${last.expertLoss.toFixed(3)}, router agreement ${last.routerAgreement.toFixed(2)}`);

    expect(history).toHaveLength(EPOCHS * (TRAIN / BATCH));
    expect(robustEval.cleanAccuracy).toBeGreaterThan(0.5); // chance is 0.1
    expect(robustEval.robustAccuracy).toBeGreaterThan(standardEval.robustAccuracy);
    tf.dispose([train.images, train.labels, test.images, test.labels]);
    optimizer.dispose();
    standard.dispose();
    robust.dispose();
  });
});
