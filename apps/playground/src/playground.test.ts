import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildMnistSubset } from '../vite/mnist-subset-plugin.js';
import { decodeMnistSubset, encodeMnistSubset } from './mnist-subset.js';
import { DenseClassifier, MoEClassifier, effectiveK, routerKinds, type MoEModelArgs } from './playground-model.js';
import { disposeMnistTensors, mnistTensors, train, type MnistTensors } from './trainer.js';

const subset = decodeMnistSubset(buildMnistSubset({ train: 256, test: 64 }));
const base: MoEModelArgs = { router: 'topK', numExperts: 4, k: 2, capacityFactor: 1.5, hiddenDim: 16, seed: 1 };

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('the MNIST asset', () => {
  it('holds the first images of each split as the files bytes, round-tripping exactly', () => {
    expect([subset.train.count, subset.test.count]).toEqual([256, 64]);
    // MNIST's first training digits are 5 0 4 1 9 2 1 3 1 4; its first test digits 7 2 1 0 4
    expect(Array.from(subset.train.labels.subarray(0, 10))).toEqual([5, 0, 4, 1, 9, 2, 1, 3, 1, 4]);
    expect(Array.from(subset.test.labels.subarray(0, 5))).toEqual([7, 2, 1, 0, 4]);
    expect(Math.max(...subset.train.pixels.subarray(0, 784))).toBe(255);
    const again = decodeMnistSubset(encodeMnistSubset(subset));
    expect(again.test.pixels).toEqual(subset.test.pixels);
  });

  it('rejects bytes that are not the asset, saying what it expected', () => {
    expect(() => decodeMnistSubset(new Uint8Array(16))).toThrow('decodeMnistSubset: expected an asset starting with "MNS1", got 16 bytes');
    const cut = encodeMnistSubset(subset).subarray(0, 100);
    // 12-byte header + (256 + 64) images · (784 pixels + 1 label) = 12 + 320 · 785 = 251212
    expect(() => decodeMnistSubset(cut)).toThrow('decodeMnistSubset: 256 train and 64 test images need 251212 bytes, got 100');
  });
});

describe('the models', () => {
  let data: MnistTensors;
  beforeAll(() => {
    data = mnistTensors(subset);
  });

  it.each(routerKinds)('%s: a training step reports a finite loss and a load over E experts; the matrix counts every test image', (router) => {
    const model = new MoEClassifier({ ...base, router });
    const optimizer = tf.train.adam(0.01);
    const x = tf.slice(data.trainX, [0, 0], [32, -1]) as tf.Tensor2D;
    const y = tf.slice(data.trainY, [0, 0], [32, -1]) as tf.Tensor2D;
    const { loss, load } = model.trainStep(x, y, optimizer);
    expect(Number.isFinite(loss)).toBe(true);
    expect(load).toHaveLength(4);
    const matrix = model.expertClassMatrix(data.testX, data.testLabelsHost);
    expect(matrix).toHaveLength(4);
    expect(matrix.flat().reduce((a, b) => a + b, 0)).toBe(64);
    // digit 7 is the first test image's: its row sums over the experts match the labels' count of 7s
    const sevens = Array.from(data.testLabelsHost).filter((c) => c === 7).length;
    expect(matrix.reduce((sum, row) => sum + row[7]!, 0)).toBe(sevens);
    tf.dispose([x, y]);
    optimizer.dispose();
    model.dispose();
  });

  it('the dense baseline has the MoE active width K·H', () => {
    expect(effectiveK(base) * base.hiddenDim).toBe(32);
    expect(effectiveK({ router: 'switch', k: 2 })).toBe(1);
    const dense = new DenseClassifier(new MoEClassifier(base).activeHidden, 1);
    expect(dense.activeHidden).toBe(32);
    dense.dispose();
  });

  it('train() lowers the loss of the MoE and of the dense model, and leaks no tensor', async () => {
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    for (const make of [() => new MoEClassifier(base), () => new DenseClassifier(32, 1)]) {
      const model = make();
      const options = { steps: 24, batchSize: 32, learningRate: 0.01, evalEvery: 8 };
      const seen: number[] = [];
      const first = await train(model, data, { ...options, onProgress: (p) => seen.push(p.step) });
      expect(seen).toEqual(Array.from({ length: 24 }, (_, i) => i + 1));
      expect(first.accuracies.map(([step]) => step)).toEqual([8, 16, 24]);
      expect(mean(first.losses.slice(-8))).toBeLessThan(0.8 * mean(first.losses.slice(0, 8)));
      // leaks: the first two runs prime (the MoE keeps its latest metrics and builds some state lazily)
      await train(model, data, { ...options, onProgress: () => {} });
      const before = tf.memory().numTensors;
      await train(model, data, { ...options, onProgress: () => {} });
      expect(tf.memory().numTensors).toBe(before);
      model.dispose();
    }
  });

  it('stops when asked', async () => {
    const model = new DenseClassifier(8, 1);
    const result = await train(model, data, { steps: 50, batchSize: 32, learningRate: 0.01, evalEvery: 10, onProgress: () => {}, shouldStop: () => true });
    expect(result.step).toBe(0);
    model.dispose();
  });
});
