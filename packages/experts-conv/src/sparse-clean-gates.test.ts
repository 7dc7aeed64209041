import * as tf from '@tensorflow/tfjs';
import { expectNoLeakedTensors, expectTensorsClose } from '@moekit/core/testing';
import { describe, expect, it } from 'vitest';
import { sparseCleanGates } from './sparse-clean-gates.js';

describe('sparseCleanGates', () => {
  it('keeps the clean softmax value at the top-k experts, 0 elsewhere, un-renormalised', () => {
    // logits [ln 3, 0, 0] → softmax [0.6, 0.2, 0.2]; [0, ln 2, ln 5] → [1, 2, 5] / 8 = [0.125, 0.25, 0.625]
    const logits = tf.tensor2d([[Math.log(3), 0, 0], [0, Math.log(2), Math.log(5)]]);
    expectTensorsClose(sparseCleanGates(logits, 1), [[0.6, 0, 0], [0, 0, 0.625]], { atol: 1e-6 });
    expectTensorsClose(sparseCleanGates(logits, 2), [[0.6, 0.2, 0], [0, 0.25, 0.625]], { atol: 1e-6 }); // ties to the lower index
    expectTensorsClose(sparseCleanGates(logits, 3), [[0.6, 0.2, 0.2], [0.125, 0.25, 0.625]], { atol: 1e-6 });
    logits.dispose();
  });

  it('has a gradient at k = 1 (Softmax(KeepTopK) would be the constant 1)', () => {
    // G̃_0 = p_0 at the chosen expert: ∂p_0/∂h = p_0 (δ_0 − p) = 0.6 · [0.4, −0.2, −0.2] = [0.24, −0.12, −0.12]
    const logits = tf.tensor2d([[Math.log(3), 0, 0]]);
    const grad = tf.grad((h: tf.Tensor) => tf.sum(sparseCleanGates(h as tf.Tensor2D, 1)))(logits);
    expectTensorsClose(grad, [[0.24, -0.12, -0.12]], { atol: 1e-6 });
    tf.dispose([logits, grad]);
  });

  it('names bad input and does not leak', async () => {
    const logits = tf.tensor2d([[0, 1]]);
    expect(() => sparseCleanGates(logits, 3)).toThrow("sparseCleanGates: argument 'k' expected an integer in [1, 2], got 3");
    const vector = tf.tensor1d([0, 1]);
    expect(() => sparseCleanGates(vector as never, 1)).toThrow("sparseCleanGates: argument 'logits' expected rank 2");
    vector.dispose();
    await expectNoLeakedTensors(() => { sparseCleanGates(logits, 1).dispose(); });
    logits.dispose();
  });
});
