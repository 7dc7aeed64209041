import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { planRouting } from '../routing/plan-routing.js';
import { disposeRoutingPlan } from '../contracts/routing-plan.js';
import { routingMetrics } from './routing-metrics.js';
import { countHostReads } from '../testing/index.js';

describe('routingMetrics', () => {
  it('matches the hand-computed values', () => {
    // T = 4, E = 2, K = 2, capacity ceil(0.5·4·2/2) = 2; slots [[0, 1], [1, -1], [0, -1], [-1, -1]]
    const probs = tf.tensor2d([[0.5, 0.5], [1, 0], [0.2, 0.8], [0.9, 0.1]]);
    const expertIndex = tf.tensor2d([[0, 1], [0, 1], [1, 0], [0, 1]], undefined, 'int32');
    const plan = planRouting({ probs, expertIndex }, 2, { capacityFactor: 0.5 });
    const m = routingMetrics(plan, probs);
    expect(m.capacity).toBe(2);
    expect(m.load).toEqual([2, 2]);
    expect(m.needed).toEqual([4, 4]);
    expect(m.droppedCount).toBe(4);
    expect(m.droppedFraction).toBe(0.5); // 4 of 8
    // importance = column sums = [0.5 + 1 + 0.2 + 0.9, 0.5 + 0 + 0.8 + 0.1] = [2.6, 1.4]
    expect(m.importance[0]).toBeCloseTo(2.6, 6);
    expect(m.importance[1]).toBeCloseTo(1.4, 6);
    // entropies: ln 2 = 0.693147, 0, −(0.2 ln 0.2 + 0.8 ln 0.8) = 0.500402, −(0.9 ln 0.9 + 0.1 ln 0.1) = 0.325083
    // mean = (0.693147 + 0 + 0.500402 + 0.325083) / 4 = 0.379658
    expect(m.routerEntropy).toBeCloseTo(0.379658, 5);
    // kept choices per token [2, 1, 1, 0] → 1
    expect(m.expertsPerToken).toBe(1);
    disposeRoutingPlan(plan);
    tf.dispose([probs, expertIndex]);
  });

  it('rejects probs that do not match the plan', () => {
    const probs = tf.tensor2d([[0.5, 0.5]]);
    const expertIndex = tf.tensor2d([[0]], undefined, 'int32');
    const plan = planRouting({ probs, expertIndex }, 2, { capacityFactor: 1 });
    const wrong = tf.tensor2d([[1, 0, 0]]);
    expect(() => routingMetrics(plan, wrong)).toThrow("routingMetrics: argument 'probs' expected shape [1, 2], got shape [1, 3]");
    disposeRoutingPlan(plan);
    tf.dispose([probs, expertIndex, wrong]);
  });
});

describe('RoutingMetrics (lazy)', () => {
  const plan = () => planRouting({ probs: tf.tensor2d([[0.5, 0.5], [1, 0]]), expertIndex: tf.tensor2d([[0], [0]], undefined, 'int32') }, 2, { capacityFactor: 1 });

  it('reads nothing until a value is asked for, then reads once and keeps plain numbers', () => {
    const p = plan();
    const probs = tf.tensor2d([[0.5, 0.5], [1, 0]]);
    const { sync: atCreation, result: m } = countHostReads(() => routingMetrics(p, probs));
    expect(atCreation).toBe(0);
    expect(m.isRead).toBe(false);
    expect(countHostReads(() => [m.load, m.needed, m.droppedCount, m.importance]).sync).toBe(1);
    // capacity ceil(1 · 2 · 1 / 2) = 1: e0 keeps one of its two tokens
    expect(m.toJSON()).toMatchObject({ capacity: 1, load: [1, 0], needed: [2, 0], droppedCount: 1, droppedFraction: 0.5, expertsPerToken: 0.5, tokensWithoutExpert: 0.5 });
    disposeRoutingPlan(p);
    probs.dispose();
  });

  it('reads asynchronously with read(), and a released, unread one names the problem', async () => {
    const p = plan();
    const probs = tf.tensor2d([[0.5, 0.5], [1, 0]]);
    const before = tf.memory().numTensors;
    const m = routingMetrics(p, probs);
    expect(tf.memory().numTensors).toBe(before + 1); // one packed tensor
    const values = await m.read();
    expect(values.load).toEqual([1, 0]);
    expect(tf.memory().numTensors).toBe(before); // released once read
    const unread = routingMetrics(p, probs);
    unread.dispose();
    expect(tf.memory().numTensors).toBe(before);
    expect(() => unread.load).toThrow("RoutingMetrics: argument 'a property' expected metrics read before the next call of the MoE that made them released them (or call read() right away), got released metrics");
    disposeRoutingPlan(p);
    probs.dispose();
  });
});
