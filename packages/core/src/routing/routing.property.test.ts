import * as tf from '@tensorflow/tfjs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { assignSlots, type SlotOrder } from './assign-slots.js';
import { assignSlotsOnHost, countNeeded, keepByPairPriority } from './assign-slots-reference.js';
import { combine } from '../dispatch/combine.js';
import { dispatch } from '../dispatch/dispatch.js';
import type { SparseRoutingPlan as RoutingPlan } from '../contracts/routing-plan.js';

/** A random routing problem: T tokens choose K of E experts (-1 = unused), with capacity and maybe priority. */
const routingProblem = fc
  .record({ numTokens: fc.integer({ min: 1, max: 12 }), numExperts: fc.integer({ min: 1, max: 5 }), capacity: fc.integer({ min: 1, max: 6 }) })
  .chain(({ numTokens, numExperts, capacity }) =>
    fc.integer({ min: 1, max: numExperts }).chain((k) =>
      fc.record({
        numTokens: fc.constant(numTokens),
        numExperts: fc.constant(numExperts),
        capacity: fc.constant(capacity),
        k: fc.constant(k),
        expertIndex: fc.array(fc.array(fc.integer({ min: -1, max: numExperts - 1 }), { minLength: k, maxLength: k }), { minLength: numTokens, maxLength: numTokens }),
        priority: fc.option(fc.array(fc.integer({ min: 0, max: 3 }), { minLength: numTokens, maxLength: numTokens }), { nil: undefined }),
      }),
    ),
  );

type Problem = { numTokens: number; numExperts: number; capacity: number; k: number; expertIndex: number[][]; priority: number[] | undefined };

function solve(p: Problem, secondChoiceOffset: 'all' | 'kept' = 'kept', slotOrder: SlotOrder = 'choiceMajor') {
  return tf.tidy(() => {
    const index = tf.tensor2d(p.expertIndex, [p.numTokens, p.k], 'int32');
    const priority = p.priority ? tf.tensor1d(p.priority) : undefined;
    const r = assignSlots(index, p.numExperts, p.capacity, { priority, secondChoiceOffset, slotOrder });
    return { slot: r.slot.arraySync() as number[][], load: Array.from(r.load.dataSync()), needed: Array.from(r.needed.dataSync()), dropped: r.dropped.dataSync()[0] };
  });
}

describe('slot assignment properties (random plans)', () => {
  it('kept slots < capacity, no shared slot, load ≤ capacity, dropped = Σ needed − Σ load (both slot orders)', () => {
    fc.assert(
      fc.property(routingProblem, fc.constantFrom('choiceMajor' as const, 'tokenMajor' as const), (p, slotOrder) => {
        const { slot, load, needed, dropped } = solve(p, 'kept', slotOrder);
        const taken = new Set<string>();
        const counted = new Array(p.numExperts).fill(0);
        slot.forEach((row, t) =>
          row.forEach((s, k) => {
            if (s < 0) return;
            const e = p.expertIndex[t]![k]!;
            expect(e).toBeGreaterThanOrEqual(0);
            expect(s).toBeLessThan(p.capacity);
            const key = `${e}:${s}`;
            expect(taken.has(key)).toBe(false);
            taken.add(key);
            counted[e]++;
          }),
        );
        expect(load).toEqual(counted);
        load.forEach((l) => expect(l).toBeLessThanOrEqual(p.capacity));
        const sum = (a: number[]) => a.reduce((x, y) => x + y, 0);
        expect(dropped).toBe(sum(needed) - sum(load));
        // an expert drops nothing until it is full
        needed.forEach((n, e) => expect(load[e]).toBe(Math.min(n, p.capacity)));
      }),
      { numRuns: 200 },
    );
  });

  it('the device placement equals the first engine\'s host loop, pair for pair (both offsets, with and without priority)', () => {
    fc.assert(
      fc.property(routingProblem, fc.constantFrom('all' as const, 'kept' as const), (p, offset) => {
        // distinct priorities: the device sort (topk) and the host's stable sort then agree exactly
        const priority = p.priority?.map((v, t) => v + t / (2 * p.numTokens));
        const device = solve({ ...p, priority }, offset);
        const order = priority === undefined ? null : Int32Array.from(priority.map((_, t) => t).sort((a, b) => priority[b]! - priority[a]! || a - b));
        const host = assignSlotsOnHost(Int32Array.from(p.expertIndex.flat()), p.numTokens, p.k, p.numExperts, p.capacity, order, offset);
        expect(device.slot.flat()).toEqual(Array.from(host.slot));
        expect(device.load).toEqual(Array.from(host.load));
        expect(device.needed).toEqual(Array.from(host.needed));
        expect(device.dropped).toBe(host.droppedCount);
      }),
      { numRuns: 200 },
    );
  });

  it('token-major: the device placement equals the host loop that walks tokens, then their choices (with and without priority)', () => {
    fc.assert(
      fc.property(routingProblem, (p) => {
        const priority = p.priority?.map((v, t) => v + t / (2 * p.numTokens));
        const device = solve({ ...p, priority }, 'kept', 'tokenMajor');
        const order = priority === undefined ? null : Int32Array.from(priority.map((_, t) => t).sort((a, b) => priority[b]! - priority[a]! || a - b));
        const host = assignSlotsOnHost(Int32Array.from(p.expertIndex.flat()), p.numTokens, p.k, p.numExperts, p.capacity, order, 'kept', 'tokenMajor');
        expect(device.slot.flat()).toEqual(Array.from(host.slot));
        expect(device.load).toEqual(Array.from(host.load));
        expect(device.needed).toEqual(Array.from(host.needed));
        expect(device.dropped).toBe(host.droppedCount);
      }),
      { numRuns: 200 },
    );
  });

  it('pair priority: the device placement equals the host (keep by score, then number the kept pairs), in both slot orders', () => {
    fc.assert(
      fc.property(routingProblem, fc.constantFrom('choiceMajor' as const, 'tokenMajor' as const), fc.integer({ min: 0, max: 1000 }), (p, slotOrder, salt) => {
        // distinct scores (a fixed permutation of the pairs): the device sort and the host's stable sort agree
        const scores = p.expertIndex.map((row, t) => row.map((_, c) => ((t * p.k + c) * 7919 + salt) % 10007));
        const device = tf.tidy(() => {
          const r = assignSlots(tf.tensor2d(p.expertIndex, [p.numTokens, p.k], 'int32'), p.numExperts, p.capacity, { pairPriority: tf.tensor2d(scores, [p.numTokens, p.k]), slotOrder });
          return { slot: r.slot.arraySync() as number[][], load: Array.from(r.load.dataSync()), needed: Array.from(r.needed.dataSync()), dropped: r.dropped.dataSync()[0] };
        });
        const flat = Int32Array.from(p.expertIndex.flat());
        const kept = keepByPairPriority(flat, scores.flat(), p.numExperts, p.capacity);
        const host = assignSlotsOnHost(kept, p.numTokens, p.k, p.numExperts, p.capacity, null, 'kept', slotOrder);
        const needed = countNeeded(flat, p.numExperts);
        expect(device.slot.flat()).toEqual(Array.from(host.slot));
        expect(device.load).toEqual(Array.from(host.load));
        expect(device.needed).toEqual(Array.from(needed));
        expect(device.dropped).toBe(needed.reduce((a, b) => a + b, 0) - host.load.reduce((a, b) => a + b, 0));
        // every expert keeps min(needed, C): dropping by score never leaves a slot empty
        needed.forEach((n, e) => expect(device.load[e]).toBe(Math.min(n, p.capacity)));
      }),
      { numRuns: 200 },
    );
  });

  it("'all' and 'kept' second-choice offsets keep the same pairs", () => {
    fc.assert(fc.property(routingProblem, (p) => {
          expect(solve(p, 'all')).toEqual(solve(p, 'kept'));
        }), { numRuns: 200 });
  });

  it('dispatch then combine (padded and grouped), identity experts and weight 1, returns exactly the kept tokens', () => {
    fc.assert(
      fc.property(routingProblem, (p) => {
        const numBefore = tf.memory().numTensors;
        tf.tidy(() => {
          const index = tf.tensor2d(p.expertIndex, [p.numTokens, p.k], 'int32');
          const r = assignSlots(index, p.numExperts, p.capacity, { priority: p.priority ? tf.tensor1d(p.priority) : undefined });
          const keptMask = tf.cast(tf.greaterEqual(r.slot, 0), 'float32') as tf.Tensor2D;
          const plan: RoutingPlan = { numExperts: p.numExperts, capacity: p.capacity, expertIndex: index, slot: r.slot, combineWeight: keptMask, load: r.load, needed: r.needed, dropped: r.dropped };
          const x = tf.add(tf.reshape(tf.range(0, p.numTokens * 3), [p.numTokens, 3]), 1); // distinct integer rows
          const expected = tf.mul(x, tf.sum(keptMask, 1, true)); // each token once per kept choice
          for (const layout of ['padded', 'grouped'] as const) {
            const y = combine(dispatch(x, plan, layout), plan, layout); // identity experts
            expect(Array.from(y.dataSync())).toEqual(Array.from(expected.dataSync()));
          }
        });
        expect(tf.memory().numTensors).toBe(numBefore);
      }),
      { numRuns: 100 },
    );
  });
});
