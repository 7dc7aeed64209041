import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { planRouting, type Renormalize } from './plan-routing.js';
import { disposeRoutingPlan } from '../contracts/routing-plan.js';
import { expectNoLeakedTensors, expectTensorsClose } from '../testing/index.js';

// T = 2, E = 3, K = 2, capacity ceil(0.5 · 2 · 2 / 3) = ceil(0.667) = 1.
// First choices: t0 → e0 slot 0, t1 → e1 slot 0. Second: t0 → e1 full, dropped; t1 → e2 slot 0.
function weights(renormalize: Renormalize) {
  const probs = tf.tensor2d([[0.5, 0.3, 0.2], [0.1, 0.6, 0.3]]);
  const expertIndex = tf.tensor2d([[0, 1], [1, 2]], undefined, 'int32');
  const plan = planRouting({ probs, expertIndex }, 3, { capacityFactor: 0.5, renormalize });
  const out = { capacity: plan.capacity, slot: plan.slot.arraySync(), weight: tf.clone(plan.combineWeight) };
  disposeRoutingPlan(plan);
  tf.dispose([probs, expertIndex]);
  return out;
}

describe('planRouting combine weights', () => {
  it("'none' keeps the router probability of each kept choice", () => {
    const { capacity, slot, weight } = weights('none');
    expect(capacity).toBe(1);
    expect(slot).toEqual([[0, -1], [0, 0]]);
    expectTensorsClose(weight, [[0.5, 0], [0.6, 0.3]]);
    weight.dispose();
  });
  it("'beforeDrop' normalises over all K choices, then drops", () => {
    // t0: 0.5 / (0.5 + 0.3) = 0.625, dropped → 0; t1: 0.6 / 0.9, 0.3 / 0.9
    const { weight } = weights('beforeDrop');
    expectTensorsClose(weight, [[0.625, 0], [2 / 3, 1 / 3]]);
    weight.dispose();
  });
  it("'afterDrop' normalises over the kept choices", () => {
    // t0: 0.5 / 0.5 = 1; t1 as before
    const { weight } = weights('afterDrop');
    expectTensorsClose(weight, [[1, 0], [2 / 3, 1 / 3]]);
    weight.dispose();
  });
  it('gives an all-dropped token weight 0, not NaN', () => {
    const probs = tf.tensor2d([[1, 0], [1, 0]]);
    const expertIndex = tf.tensor2d([[0], [0]], undefined, 'int32');
    // capacity ceil(0.5 · 2 · 1 / 2) = 1: t1 is dropped
    const plan = planRouting({ probs, expertIndex }, 2, { capacityFactor: 0.5, renormalize: 'afterDrop' });
    expectTensorsClose(plan.combineWeight, [[1], [0]]);
    expect(plan.dropped.dataSync()[0]).toBe(1);
    disposeRoutingPlan(plan);
    tf.dispose([probs, expertIndex]);
  });
  it('uses the router priority (BPR) and the dropless capacity', () => {
    const probs = tf.tensor2d([[0.5, 0.5], [0.5, 0.5], [0.5, 0.5]]);
    const expertIndex = tf.tensor2d([[0], [0], [1]], undefined, 'int32');
    const priority = tf.tensor1d([0, 1, 0]);
    // capacity ceil(0.5 · 3 / 2) = 1: t1 (priority 1) takes e0's slot, t0 is dropped
    const plan = planRouting({ probs, expertIndex, priority }, 2, { capacityFactor: 0.5 });
    expect(plan.slot.arraySync()).toEqual([[-1], [0], [0]]);
    disposeRoutingPlan(plan);
    // dropless: capacity = largest needed = 2, nothing dropped
    const dropless = planRouting({ probs, expertIndex }, 2, { capacityFactor: 0 });
    expect(dropless.capacity).toBe(2);
    expect(dropless.dropped.dataSync()[0]).toBe(0);
    disposeRoutingPlan(dropless);
    tf.dispose([probs, expertIndex, priority]);
  });
  it('rejects bad input and leaks nothing', async () => {
    const probs = tf.tensor2d([[0.5, 0.5]]);
    const expertIndex = tf.tensor2d([[0]], undefined, 'int32');
    expect(() => planRouting({ probs, expertIndex }, 3, { capacityFactor: 1 })).toThrow("planRouting: argument 'probs' expected shape [1, 3], got shape [1, 2]");
    expect(() => planRouting({ probs, expertIndex }, 2, { capacityFactor: 1, renormalize: 'softmax' as never })).toThrow("argument 'renormalize' expected one of 'none' | 'beforeDrop' | 'afterDrop', got 'softmax'");
    await expectNoLeakedTensors(() => disposeRoutingPlan(planRouting({ probs, expertIndex }, 2, { capacityFactor: 1, renormalize: 'beforeDrop' })));
    tf.dispose([probs, expertIndex]);
  });
});
