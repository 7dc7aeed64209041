import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { combine } from './combine.js';
import { dispatch } from './dispatch.js';
import { disposeRoutingPlan, type SoftRoutingPlan } from '../contracts/routing-plan.js';
import { routingMetrics } from '../metrics/routing-metrics.js';
import { expectNoLeakedTensors, expectTensorsClose } from '../testing/index.js';

// Soft MoE (Puigcerver et al. 2023, Eqs. 1-2) with E = 1 expert of S = 2 slots over groups of G = 2
// tokens. Slot logits per token [0, ln 3] and [ln 3, 0]:
// D = softmax over the tokens (per slot column): column 0 [0, ln 3] → [0.25, 0.75]; column 1 → [0.75, 0.25]
// C = softmax over the slots (per token row): row 0 → [0.25, 0.75]; row 1 → [0.75, 0.25]
function softPlan(numGroups: number): SoftRoutingPlan {
  const logits = tf.tidy(() => tf.tile(tf.tensor3d([[[0, Math.log(3)], [Math.log(3), 0]]]), [numGroups, 1, 1])); // [B, G, E·S]
  const plan: SoftRoutingPlan = {
    kind: 'soft',
    numExperts: 1,
    capacity: numGroups * 2,
    slotsPerGroup: 2,
    groupSize: 2,
    dispatchWeights: tf.softmax(tf.transpose(logits, [0, 2, 1])).transpose([0, 2, 1]) as tf.Tensor3D,
    combineWeights: tf.softmax(logits) as tf.Tensor3D,
  };
  logits.dispose();
  return plan;
}

describe('Soft MoE dispatch and combine', () => {
  it('slots are token mixtures (Dᵀ X), outputs slot mixtures (C · Ỹ), hand-computed', () => {
    const plan = softPlan(1);
    const x = tf.tensor2d([[1, 0], [0, 1]]);
    // slot 0 = 0.25·x0 + 0.75·x1 = [0.25, 0.75]; slot 1 = 0.75·x0 + 0.25·x1 = [0.75, 0.25]
    const slots = dispatch(x, plan); // [E, C, 2]
    expectTensorsClose(slots, [[[0.25, 0.75], [0.75, 0.25]]]);
    // identity expert: y0 = 0.25·slot0 + 0.75·slot1 = [0.625, 0.375]; y1 = 0.75·slot0 + 0.25·slot1 = [0.375, 0.625]
    const y = combine(slots, plan);
    expectTensorsClose(y, [[0.625, 0.375], [0.375, 0.625]]);
    const m = routingMetrics(plan, tf.ones([2, 1]) as tf.Tensor2D);
    expect(m.droppedCount).toBe(0);
    expect(m.load).toEqual([2]); // every slot filled
    tf.dispose([x, slots, y]);
    disposeRoutingPlan(plan);
  });

  it('keeps groups apart: each group mixes only its own tokens (grouped layout too)', () => {
    const plan = softPlan(2);
    const x = tf.tensor2d([[1, 0], [0, 1], [10, 0], [0, 10]]);
    // group 1 is group 0 times 10; expert 0's buffer holds group 0's slots, then group 1's
    const slots = dispatch(x, plan);
    expectTensorsClose(slots, [[[0.25, 0.75], [0.75, 0.25], [2.5, 7.5], [7.5, 2.5]]]);
    const y = combine(slots, plan);
    expectTensorsClose(y, [[0.625, 0.375], [0.375, 0.625], [6.25, 3.75], [3.75, 6.25]]);
    const rows = dispatch(x, plan, 'grouped');
    expect(rows.shape).toEqual([4, 2]);
    expectTensorsClose(combine(rows, plan, 'grouped'), y);
    tf.dispose([x, slots, y, rows]);
    disposeRoutingPlan(plan);
  });

  it('is differentiable in the weights and the tokens, and leaks nothing', async () => {
    const plan = softPlan(1);
    const x = tf.tensor2d([[1, 2], [3, 4]]);
    const f = (input: tf.Tensor, d: tf.Tensor, c: tf.Tensor) =>
      tf.sum(tf.square(combine(dispatch(input, { ...plan, dispatchWeights: d as tf.Tensor3D }), { ...plan, combineWeights: c as tf.Tensor3D })));
    const grads = tf.grads(f)([x, plan.dispatchWeights, plan.combineWeights]);
    for (const g of grads) expect(tf.tidy(() => tf.norm(g).dataSync()[0]!)).toBeGreaterThan(0);
    await expectNoLeakedTensors(() => tf.tidy(() => { combine(dispatch(x, plan), plan); }));
    expect(() => dispatch(tf.zeros([3, 2]), plan)).toThrow("dispatch: argument 'plan.dispatchWeights' expected shape [T / G, G, E·S] with T = 3, G = 2, got shape [1, 2, 2]");
    tf.dispose([x, ...grads]);
    disposeRoutingPlan(plan);
  });
});
