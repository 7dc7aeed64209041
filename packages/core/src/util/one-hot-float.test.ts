import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { oneHotFloat } from './one-hot-float.js';
import { chosenExpertsMask } from '../routing/chosen-experts-mask.js';
import { selectTopK } from '../routers/select-top-k.js';

describe('oneHotFloat', () => {
  it('encodes any depth ≥ 1 in float32, out-of-range indices as zero rows', () => {
    const idx = tf.tensor2d([[1, -1], [0, 2]], undefined, 'int32');
    const oh = oneHotFloat(idx, 2);
    expect(oh.dtype).toBe('float32');
    expect(oh.arraySync()).toEqual([[[0, 1], [0, 0]], [[1, 0], [0, 0]]]);
    const one = oneHotFloat(tf.tensor1d([0, 0], 'int32'), 1);
    expect(one.arraySync()).toEqual([[1], [1]]);
    tf.dispose([idx, oh, one]);
  });
});

describe('oneHotFloat on the gradient tape', () => {
  it('lets gradients pass around it when its indices depend on a variable', () => {
    const logits = tf.variable(tf.tensor2d([[1, 3, 2]]));
    const { grads } = tf.variableGrads(() => {
      const chosen = selectTopK(logits as unknown as tf.Tensor2D, 2); // int32, output of a tape node
      return tf.sum(tf.mul(tf.sum(oneHotFloat(chosen, 3), 1), logits)) as tf.Scalar; // logits at the top 2
    });
    expect(Array.from(grads[logits.name]!.dataSync())).toEqual([0, 1, 1]);
    tf.dispose([logits, ...Object.values(grads)]);
  });
});

describe('chosenExpertsMask', () => {
  it('marks each token\'s chosen experts once, ignoring out-of-range choices, without a [T, K, E] one-hot', () => {
    const chosen = tf.tensor2d([[2, 0], [1, -1], [-1, 3]], undefined, 'int32'); // 3 is outside [0, 3)
    const before = tf.memory().numTensors;
    const mask = chosenExpertsMask(chosen, 3);
    expect(mask.dtype).toBe('float32');
    expect(mask.arraySync()).toEqual([[1, 0, 1], [0, 1, 0], [0, 0, 0]]);
    mask.dispose();
    expect(tf.memory().numTensors).toBe(before);
    chosen.dispose();
  });

  it('equals the summed one-hot it replaces on random top-k choices', () => {
    const scores = tf.randomNormal([64, 16], 0, 1, 'float32', 7) as tf.Tensor2D;
    const chosen = selectTopK(scores, 3);
    const viaOneHot = tf.minimum(tf.sum(oneHotFloat(chosen, 16), 1), 1);
    const mask = chosenExpertsMask(chosen, 16);
    expect(Array.from(mask.dataSync())).toEqual(Array.from(viaOneHot.dataSync()));
    expect(tf.sum(mask).dataSync()[0]).toBe(64 * 3);
    tf.dispose([scores, chosen, viaOneHot, mask]);
  });
});
