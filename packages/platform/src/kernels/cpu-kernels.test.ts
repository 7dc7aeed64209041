import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectNoLeakedTensors } from '@moekit/core/testing';
import { registerMoekitKernels, unregisterMoekitKernels } from './register-moekit-kernels.js';

const random = (shape: number[], seed: number) => Array.from(tf.tidy(() => tf.randomNormal(shape, 0, 1, 'float32', seed).dataSync()));

/** Runs `fn` with the stock kernels, then with moekit's, and returns both results. */
function stockAndMoekit(fn: () => tf.Tensor): [number[], number[], number[]] {
  unregisterMoekitKernels();
  const stock = tf.tidy(fn);
  registerMoekitKernels();
  const ours = tf.tidy(fn);
  const out: [number[], number[], number[]] = [Array.from(stock.dataSync()), Array.from(ours.dataSync()), ours.shape];
  tf.dispose([stock, ours]);
  return out;
}

beforeAll(async () => {
  await tf.setBackend('cpu');
  registerMoekitKernels();
});
afterAll(() => unregisterMoekitKernels());

describe('cpu Multiply fast path', () => {
  const cases: [string, number[], number[], number[]][] = [
    ['trailing broadcast [T, K, D] × [T, K, 1]', [6, 2, 5], [6, 2, 1], [6, 2, 5]],
    ['the other way round', [6, 2, 1], [6, 2, 5], [6, 2, 5]],
    ['scalar × tensor', [], [3, 4], [3, 4]],
    ['rank-padded [K, 1] against [T, K, D]', [2, 1], [3, 2, 4], [3, 2, 4]],
    ['leading broadcast (stock path)', [1, 5], [4, 5], [4, 5]],
    ['outer product (stock path)', [4, 1], [1, 3], [4, 3]],
    ['equal shapes (stock path)', [3, 4], [3, 4], [3, 4]],
  ];
  for (const [name, aShape, bShape, outShape] of cases) {
    it(`matches the stock kernel: ${name}`, () => {
      const a = random(aShape, 1);
      const b = random(bShape, 2);
      const [stock, ours, shape] = stockAndMoekit(() => tf.mul(tf.tensor(a, aShape), tf.tensor(b, bShape)));
      expect(ours).toEqual(stock);
      expect(shape).toEqual(outShape);
    });
  }
});

describe('cpu Sum over one axis', () => {
  for (const [axis, keepDims] of [[0, false], [1, false], [1, true], [2, false], [-1, true]] as [number, boolean][]) {
    it(`matches the stock kernel: axis ${axis}, keepDims ${keepDims}`, () => {
      const x = random([4, 3, 5], 3);
      const [stock, ours] = stockAndMoekit(() => tf.sum(tf.tensor3d(x, [4, 3, 5]), axis, keepDims));
      ours.forEach((v, i) => expect(v).toBeCloseTo(stock[i]!, 5));
      expect(ours).toHaveLength(stock.length);
    });
  }
  it('leaves multi-axis sums to the stock kernel and leaks nothing', async () => {
    const x = random([4, 3, 5], 4);
    const [stock, ours] = stockAndMoekit(() => tf.sum(tf.tensor3d(x, [4, 3, 5]), [0, 2]));
    ours.forEach((v, i) => expect(v).toBeCloseTo(stock[i]!, 5));
    const t = tf.tensor3d(x, [4, 3, 5]);
    await expectNoLeakedTensors(() => tf.tidy(() => { tf.sum(t, 1); tf.mul(t, tf.ones([4, 3, 1])); }));
    t.dispose();
  });
});

describe('cpu GatherV2 row fast path', () => {
  it('matches the stock kernel for row gathers (float32 and int32, 2-D indices) and other axes', () => {
    const x = Array.from({ length: 24 }, (_, i) => i * 0.5 - 3);
    for (const [name, fn] of [
      ['rows of a 3-D table', () => tf.gather(tf.tensor3d(x, [4, 3, 2]), tf.tensor1d([3, 0, 0, 2], 'int32'))],
      ['int32 rows, 2-D indices', () => tf.gather(tf.tensor2d(x.map((v) => Math.round(v)), [6, 4], 'int32'), tf.tensor2d([[5, 1], [0, 0]], [2, 2], 'int32'))],
      ['axis 1 (stock kernel)', () => tf.gather(tf.tensor2d(x, [6, 4]), tf.tensor1d([3, 1], 'int32'), 1)],
    ] as const) {
      const [stock, ours, shape] = stockAndMoekit(fn);
      expect(ours, name).toEqual(stock);
      expect(shape.length, name).toBeGreaterThan(0);
    }
  });

  it('rejects an index out of range', () => {
    registerMoekitKernels();
    const table = tf.tensor2d([[1, 2], [3, 4]]);
    const index = tf.tensor1d([2], 'int32');
    expect(() => tf.gather(table, index)).toThrow('GatherV2: the index value 2 is not in [0, 1]');
    tf.dispose([table, index]);
  });
});
