import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { combine } from './combine.js';
import { denseCombine, denseDispatch } from './dense-dispatch.js';
import { dispatch } from './dispatch.js';
import { planRouting } from '../routing/plan-routing.js';
import { disposeRoutingPlan, type SparseRoutingPlan as RoutingPlan } from '../contracts/routing-plan.js';
import { expectNoLeakedTensors, expectTensorsClose } from '../testing/index.js';

// T = 4 tokens of width 2, E = 2 experts, K = 2 choices (the example of assign-slots.test.ts).
const x = () => tf.tensor2d([[1, 2], [3, 4], [5, 6], [7, 8]]);
function makePlan(capacityFactor: number): RoutingPlan {
  const probs = tf.tensor2d([[0.6, 0.4], [0.7, 0.3], [0.2, 0.8], [0.9, 0.1]]);
  const expertIndex = tf.tensor2d([[0, 1], [0, 1], [1, 0], [0, 1]], undefined, 'int32');
  // capacity = ceil(f · T · K / E) = ceil(0.5 · 4 · 2 / 2) = 2 for f = 0.5
  const plan = planRouting({ probs, expertIndex }, 2, { capacityFactor });
  tf.dispose([probs, expertIndex]);
  return plan;
}

describe('dispatch and combine', () => {
  it('dispatch fills each expert buffer in slot order, zero for empty slots', () => {
    const plan = makePlan(0.5);
    expect(plan.capacity).toBe(2);
    // slots as in assign-slots.test.ts: [[0, 1], [1, -1], [0, -1], [-1, -1]]
    // e0: slot 0 ← t0, slot 1 ← t1; e1: slot 0 ← t2 (first choice), slot 1 ← t0 (second choice)
    const xs = x();
    const buffers = dispatch(xs, plan);
    expectTensorsClose(buffers, [[[1, 2], [3, 4]], [[5, 6], [1, 2]]], { atol: 0 });
    tf.dispose([buffers, xs]);
    disposeRoutingPlan(plan);
  });

  it('combine sums kept outputs weighted by the plan', () => {
    const plan = makePlan(0.5);
    // combine weights ('none'): t0 [0.6, 0.4], t1 [0.7, 0], t2 [0.8, 0], t3 [0, 0]
    const out = tf.tensor3d([[[10, 0], [20, 0]], [[0, 30], [0, 40]]]); // [E, C, 2]
    const y = combine(out, plan);
    // t0 = 0.6·[10, 0] + 0.4·[0, 40]; t1 = 0.7·[20, 0]; t2 = 0.8·[0, 30]; t3 dropped = 0
    expectTensorsClose(y, [[6, 16], [14, 0], [0, 24], [0, 0]]);
    tf.dispose([out, y]);
    disposeRoutingPlan(plan);
  });

  it('matches the dense one-hot reference, forward and backward', () => {
    for (const factor of [0.5, 1, 0]) {
      const plan = makePlan(factor);
      const xs = x();
      const weights = tf.tensor2d([[1, -1], [2, 0.5]]);
      const route = (d: (x: tf.Tensor, p: RoutingPlan) => tf.Tensor, c: (o: tf.Tensor, p: RoutingPlan) => tf.Tensor) => (input: tf.Tensor) =>
        tf.sum(tf.square(c(tf.matMul(d(input, plan) as tf.Tensor3D, tf.tile(tf.expandDims(weights, 0), [2, 1, 1]) as tf.Tensor3D), plan)));
      const sparse = tf.valueAndGrad(route(dispatch, combine))(xs);
      const dense = tf.valueAndGrad(route(denseDispatch, denseCombine))(xs);
      expectTensorsClose(sparse.value, dense.value);
      expectTensorsClose(sparse.grad, dense.grad);
      tf.dispose([sparse.value, sparse.grad, dense.value, dense.grad, xs, weights]);
      disposeRoutingPlan(plan);
    }
  });

  it('combine gives the dense reference gradients to the expert outputs and the combine weights', () => {
    for (const factor of [0.5, 0]) {
      const plan = makePlan(factor); // factor 0.5 drops four pairs (slots in the first test)
      const size = 2 * plan.capacity * 2;
      const out = tf.tensor3d([...random3(), ...random3()].slice(0, size).map((v, i) => v + Math.floor(i / 12)), [2, plan.capacity, 2]); // [E, C, 2]
      const weight = tf.tensor2d([[0.6, 0.4], [0.7, 0.3], [0.8, 0.2], [0.9, 0.1]]);
      const loss = (c: (o: tf.Tensor, p: RoutingPlan) => tf.Tensor) => (o: tf.Tensor, w: tf.Tensor) =>
        tf.sum(tf.mul(c(o, { ...plan, combineWeight: w as tf.Tensor2D }), tf.tensor2d([[1, -2], [3, 0.5], [-1, 1], [2, 2]])));
      const [sparseOut, sparseWeight] = tf.grads(loss(combine))([out, weight]);
      const [denseOut, denseWeight] = tf.grads(loss(denseCombine))([out, weight]);
      expectTensorsClose(sparseOut!, denseOut!);
      expectTensorsClose(sparseWeight!, denseWeight!);
      if (factor === 0.5) {
        // dy = [[1, -2], [3, 0.5], [-1, 1], [2, 2]]; t0's pairs: e0 slot 0 and e1 slot 1, t1 e0 slot 1, t2 e1 slot 0.
        // ∂L/∂w[t, k] = ⟨dy[t], out[row]⟩, 0 for dropped pairs; out = [[[0.5, -1], [2, 0.25]], [[1, 1], [-0.5, 2]]]
        // w[0,0]: ⟨[1,-2],[0.5,-1]⟩ = 2.5; w[0,1]: ⟨[1,-2],[-0.5,2]⟩ = -4.5; w[1,0]: ⟨[3,0.5],[2,0.25]⟩ = 6.125;
        // w[2,0]: ⟨[-1,1],[1,1]⟩ = 0 (t2's first choice is e1, slot 0)
        expectTensorsClose(sparseWeight!, [[2.5, -4.5], [6.125, 0], [0, 0], [0, 0]]);
      }
      tf.dispose([out, weight, sparseOut!, sparseWeight!, denseOut!, denseWeight!]);
      disposeRoutingPlan(plan);
    }
  });

  it('routes any feature shape: [T, S, D] tokens go to [E, C, S, D] buffers', () => {
    const plan = makePlan(0.5);
    const xs = tf.reshape(tf.range(0, 16), [4, 2, 2]);
    const buffers = dispatch(xs, plan);
    expect(buffers.shape).toEqual([2, 2, 2, 2]);
    const y = combine(buffers, plan);
    expect(y.shape).toEqual([4, 2, 2]);
    // t1 kept its first choice only, weight 0.7: y[1] = 0.7 · x[1]
    expectTensorsClose(tf.slice(y, [1], [1]), tf.mul(tf.slice(xs, [1], [1]), 0.7));
    tf.dispose([xs, buffers, y]);
    disposeRoutingPlan(plan);
  });

  it('rejects inputs that do not fit the plan', () => {
    const plan = makePlan(0.5);
    const wrongT = tf.zeros([3, 2]);
    expect(() => dispatch(wrongT, plan)).toThrow("dispatch: argument 'plan.expertIndex' expected shape [3, K] (T from the input's axis 0), got shape [4, 2]");
    const flat = tf.zeros([4]);
    expect(() => dispatch(flat, plan)).toThrow("dispatch: argument 'x' expected rank >= 2, got rank 1 (shape [4])");
    const wrongC = tf.zeros([2, 3, 2]);
    expect(() => combine(wrongC, plan)).toThrow("combine: argument 'expertOutput' expected shape [2, 2, ...] (E, C of the plan), got shape [2, 3, 2]");
    tf.dispose([wrongT, flat, wrongC]);
    disposeRoutingPlan(plan);
  });

  it('leak no tensors', async () => {
    const plan = makePlan(0.5);
    const xs = x();
    await expectNoLeakedTensors(() => {
      const buffers = dispatch(xs, plan);
      const y = combine(buffers, plan);
      tf.dispose([buffers, y]);
    });
    await expectNoLeakedTensors(() => {
      const buffers = denseDispatch(xs, plan);
      const y = denseCombine(buffers, plan);
      tf.dispose([buffers, y]);
    });
    tf.dispose(xs);
    disposeRoutingPlan(plan);
  });
});

describe('the grouped layout', () => {
  it('dispatch packs the kept rows by expert without padding', () => {
    const plan = makePlan(0.5);
    // load [2, 2]; e0 rows: t0 (slot 0), t1 (slot 1); e1 rows: t2 (slot 0), t0 (slot 1)
    const xs = x();
    const rows = dispatch(xs, plan, 'grouped');
    expectTensorsClose(rows, [[1, 2], [3, 4], [5, 6], [1, 2]], { atol: 0 });
    tf.dispose([xs, rows]);
    disposeRoutingPlan(plan);
  });

  it('gives the same output and gradients as the padded layout, with an empty expert', () => {
    const probs = tf.tensor2d([[0.6, 0.3, 0.1], [0.7, 0.2, 0.1], [0.2, 0.1, 0.7], [0.9, 0.05, 0.05], [0.5, 0.4, 0.1]]);
    const expertIndex = tf.tensor2d([[0], [0], [2], [0], [0]], undefined, 'int32'); // expert 1 gets nothing
    const plan = planRouting({ probs, expertIndex }, 3, { capacityFactor: 1.5 }); // capacity ceil(1.5·5/3) = 3: one dropped
    expect(plan.dropped.dataSync()[0]).toBe(1);
    const weights = tf.tensor3d(random3(), [3, 2, 2]);
    const perExpert = tf.unstack(weights);
    const loss = (layout: 'padded' | 'grouped') => (input: tf.Tensor) => {
      const buffers = dispatch(input, plan, layout);
      const out = layout === 'padded'
        ? tf.matMul(buffers as tf.Tensor3D, weights)
        : tf.concat(tf.split(buffers, Array.from(plan.load.dataSync()), 0).map((g, e) => tf.matMul(g as tf.Tensor2D, perExpert[e] as tf.Tensor2D)), 0);
      return tf.sum(tf.square(combine(out, plan, layout)));
    };
    const xs = tf.tensor2d([[1, 2], [3, 4], [5, 6], [7, 8], [9, 10]]);
    const padded = tf.valueAndGrad(loss('padded'))(xs);
    const grouped = tf.valueAndGrad(loss('grouped'))(xs);
    expectTensorsClose(grouped.value, padded.value);
    expectTensorsClose(grouped.grad, padded.grad);
    tf.dispose([probs, expertIndex, weights, ...perExpert, xs, padded.value, padded.grad, grouped.value, grouped.grad]);
    disposeRoutingPlan(plan);
  });

  it('rejects a grouped output with the wrong row count', () => {
    const plan = makePlan(0.5);
    const out = tf.zeros([3, 2]);
    expect(() => combine(out, plan, 'grouped')).toThrow("combine: argument 'expertOutput' expected 4 rows (Σ plan.load), got shape [3, 2]");
    expect(() => combine(out, plan, 'stacked' as never)).toThrow("combine: argument 'layout' expected one of 'padded' | 'grouped', got 'stacked'");
    out.dispose();
    disposeRoutingPlan(plan);
  });
});

function random3(): number[] {
  return [0.5, -1, 2, 0.25, 1, 1, -0.5, 2, 3, -2, 0.1, 0.4];
}
