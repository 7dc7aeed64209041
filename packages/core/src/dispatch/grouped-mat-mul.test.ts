import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { groupedMatMul } from './grouped-mat-mul.js';
import { applyPerGroup, perExpert } from './per-expert.js';
import { expectNoLeakedTensors, expectTensorsClose } from '../testing/index.js';

// The same function on the tape, op by op (the grouped path before groupedMatMul): the reference the
// custom gradient must match.
function reference(rows: tf.Tensor, weight: tf.Tensor, sizes: number[], bias?: tf.Tensor): tf.Tensor {
  const ws = perExpert(weight);
  const bs = bias === undefined ? [] : perExpert(tf.reshape(bias, [weight.shape[0]!, 1, weight.shape[2]!]));
  return applyPerGroup(rows, sizes, weight.shape[2]!, (g, e) => {
    const y = tf.matMul(g, ws[e] as tf.Tensor2D);
    return bias === undefined ? y : tf.add(y, bs[e]!);
  });
}

const seeded = (shape: number[], seed: number) => tf.randomNormal(shape, 0, 1, 'float32', seed);

describe('groupedMatMul', () => {
  it('multiplies each group by its own expert matrix, adding its bias', () => {
    // rows r0, r1 → expert 0, r2 → expert 2 (expert 1 empty); W_0 = [[1, 2], [3, 4]], W_2 = [[0, 1], [1, 0]]
    const rows = tf.tensor2d([[1, 1], [2, 0], [5, 7]]);
    const weight = tf.tensor3d([[[1, 2], [3, 4]], [[9, 9], [9, 9]], [[0, 1], [1, 0]]]);
    const bias = tf.tensor2d([[10, 20], [99, 99], [-1, -2]]);
    const y = groupedMatMul(rows, weight, [2, 0, 1], bias);
    // r0 = [1, 1]·W_0 + b_0 = [4, 6] + [10, 20]; r1 = [2, 0]·W_0 + b_0 = [2, 4] + [10, 20]; r2 = [5, 7]·W_2 + b_2 = [7, 5] + [-1, -2]
    expectTensorsClose(y, [[14, 26], [12, 24], [6, 3]], { atol: 0 });
    tf.dispose([rows, weight, bias, y]);
  });

  it('gives the gradients of the op-by-op reference, empty groups included', () => {
    for (const sizes of [[3, 0, 4, 1], [8], [0, 0, 5, 0]]) {
      const E = sizes.length;
      const N = sizes.reduce((a, b) => a + b, 0);
      const rows = seeded([N, 3], 1);
      const weight = seeded([E, 3, 2], 2);
      const bias = seeded([E, 1, 2], 3);
      const dy = seeded([N, 2], 4);
      const loss = (f: typeof reference) => (r: tf.Tensor, w: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(f(r, w, sizes, b), dy));
      const fused = tf.grads(loss(groupedMatMul))([rows, weight, bias]);
      const taped = tf.grads(loss(reference))([rows, weight, bias]);
      fused.forEach((g, i) => expectTensorsClose(g, taped[i]!, { atol: 1e-5 }));
      // an empty expert's weight and bias get exactly zero gradient
      if (sizes[1] === 0) expectTensorsClose(tf.slice(fused[1]!, [1], [1]), tf.zeros([1, 3, 2]), { atol: 0 });
      const withoutBias = tf.grads((r: tf.Tensor, w: tf.Tensor) => tf.sum(tf.mul(groupedMatMul(r, w, sizes), dy)))([rows, weight]);
      const withoutBiasTaped = tf.grads((r: tf.Tensor, w: tf.Tensor) => tf.sum(tf.mul(reference(r, w, sizes), dy)))([rows, weight]);
      withoutBias.forEach((g, i) => expectTensorsClose(g, withoutBiasTaped[i]!, { atol: 1e-5 }));
      tf.dispose([rows, weight, bias, dy, ...fused, ...taped, ...withoutBias, ...withoutBiasTaped]);
    }
  });

  it('fuses relu: relu of the product, and the taped relu\'s gradients, with and without bias', () => {
    // by hand: r0 = [1, 1]·W_0 + b_0 = [14, 26], r2 = [5, 7]·W_2 + b_2 = [6, 3]; with W_0 negated r0 → [-4, -6] + b_0 = [6, 14]
    const rows = tf.tensor2d([[1, 1], [2, 0], [5, 7]]);
    const weight = tf.tensor3d([[[1, 2], [3, 4]], [[9, 9], [9, 9]], [[0, -1], [-1, 0]]]);
    const y = groupedMatMul(rows, weight, [2, 0, 1], undefined, { activation: 'relu' }); // r2 = [-7, -5] → 0
    expectTensorsClose(y, [[4, 6], [2, 4], [0, 0]], { atol: 0 });
    tf.dispose([rows, weight, y]);
    for (const withBias of [false, true]) {
      const sizes = [3, 0, 4, 1];
      const r = seeded([8, 3], 5);
      const w = seeded([4, 3, 2], 6);
      const b = seeded([4, 2], 7);
      const dy = seeded([8, 2], 8);
      const inputs = withBias ? [r, w, b] : [r, w];
      const fusedGrads = tf.grads((x: tf.Tensor, k: tf.Tensor, c?: tf.Tensor) => tf.sum(tf.mul(groupedMatMul(x, k, sizes, c, { activation: 'relu' }), dy)))(inputs);
      const tapedGrads = tf.grads((x: tf.Tensor, k: tf.Tensor, c?: tf.Tensor) => tf.sum(tf.mul(tf.relu(reference(x, k, sizes, c)), dy)))(inputs);
      fusedGrads.forEach((g, i) => expectTensorsClose(g, tapedGrads[i]!, { atol: 1e-5 }));
      tf.dispose([r, w, b, dy, ...fusedGrads, ...tapedGrads]);
    }
  });

  it('names the bad argument', () => {
    const rows = tf.zeros([3, 2]);
    const weight = tf.zeros([2, 2, 4]);
    expect(() => groupedMatMul(rows, weight, [1, 1])).toThrow("groupedMatMul: argument 'rows' expected shape [2, 2] (Σ groupSizes, weight's axis 1), got shape [3, 2]");
    expect(() => groupedMatMul(rows, weight, [3])).toThrow("groupedMatMul: argument 'groupSizes' expected 2 non-negative integers (weight's axis 0), got [3]");
    expect(() => groupedMatMul(rows, weight, [4, -1])).toThrow("argument 'groupSizes' expected 2 non-negative integers");
    const bias = tf.zeros([2, 3]);
    expect(() => groupedMatMul(rows, weight, [1, 2], bias)).toThrow("groupedMatMul: argument 'bias' expected shape [2, 4] or [2, 1, 4], got shape [2, 3]");
    expect(() => groupedMatMul(rows, weight, [1, 2], undefined, { activation: 'gelu' as 'relu' })).toThrow("groupedMatMul: argument 'options.activation' expected 'relu' or undefined, got 'gelu'");
    tf.dispose([rows, weight, bias]);
  });

  it('leaks no tensors, forward or backward', async () => {
    const rows = seeded([6, 3], 1);
    const weight = seeded([3, 3, 2], 2);
    const bias = seeded([3, 2], 3);
    await expectNoLeakedTensors(() => {
      tf.dispose(groupedMatMul(rows, weight, [2, 0, 4], bias));
      tf.dispose(tf.grads((r: tf.Tensor, w: tf.Tensor, b: tf.Tensor) => tf.sum(groupedMatMul(r, w, [2, 0, 4], b)))([rows, weight, bias]));
      tf.dispose(tf.grads((r: tf.Tensor, w: tf.Tensor) => tf.sum(groupedMatMul(r, w, [2, 0, 4])))([rows, weight]));
    });
    tf.dispose([rows, weight, bias]);
  });
});
