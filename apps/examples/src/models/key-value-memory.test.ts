import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { keyValueModel, keyValuePairs } from './key-value-memory.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('the key → value memory task', () => {
  it('draws N keys [N, D] and N values in [0, C), the same for the same seed', () => {
    const a = keyValuePairs({ pairs: 50, dim: 6, classes: 7, seed: 3 });
    const b = keyValuePairs({ pairs: 50, dim: 6, classes: 7, seed: 3 });
    expect(a.x.shape).toEqual([50, 6]);
    expect(a.y.shape).toEqual([50, 1]);
    const values = Array.from(a.y.dataSync());
    expect(values.every((v) => Number.isInteger(v) && v >= 0 && v < 7)).toBe(true);
    expect(Array.from(b.x.dataSync())).toEqual(Array.from(a.x.dataSync()));
    expect(Array.from(b.y.dataSync())).toEqual(values);
    tf.dispose([a.x, a.y, b.x, b.y]);
  });

  it('builds key → key + middle(key) → softmax over C: with a zero middle it is the linear head alone', () => {
    const model = keyValueModel({ dim: 4, classes: 3 }, (h) => tf.layers.dense({ units: 4, kernelInitializer: 'zeros' }).apply(h) as tf.SymbolicTensor);
    expect(model.outputShape).toEqual([null, 3]);
    // parameters: middle 4·4 + 4, head 4·3 + 3
    expect(model.countParams()).toBe(20 + 15);
    const x = tf.ones([2, 4]);
    const p = model.predict(x) as tf.Tensor;
    expect(Array.from(tf.sum(p, 1).dataSync()).map((v) => Math.round(v * 1e5) / 1e5)).toEqual([1, 1]);
    tf.dispose([x, p]);
    model.optimizer.dispose();
    model.dispose();
  });
});
