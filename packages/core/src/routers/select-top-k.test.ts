import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { selectTopK } from './select-top-k.js';
import { expectNoLeakedTensors } from '../testing/index.js';

describe('selectTopK', () => {
  it('returns the k best experts per row, best first, ties to the lower index', () => {
    const scores = tf.tensor2d([[0.1, 0.5, 0.4], [0.3, 0.3, 0.3]]);
    const idx = selectTopK(scores, 2);
    expect(idx.dtype).toBe('int32');
    expect(idx.arraySync()).toEqual([[1, 2], [0, 1]]);
    tf.dispose([scores, idx]);
  });
  it('rejects k outside [1, E] and leaks nothing', async () => {
    const scores = tf.tensor2d([[0.1, 0.5, 0.4]]);
    expect(() => selectTopK(scores, 4)).toThrow("selectTopK: argument 'k' expected an integer in [1, 3], got 4");
    expect(() => selectTopK(scores, 0)).toThrow("selectTopK: argument 'k' expected an integer in [1, 3], got 0");
    await expectNoLeakedTensors(() => selectTopK(scores, 2).dispose());
    scores.dispose();
  });
});
