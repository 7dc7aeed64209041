import goldenJson from '../../../../scripts/golden/load_balancing_conventions.json' with { type: 'json' }; // a module import, so the suite also runs in the browser
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { assignSlots, type SlotOrder } from './assign-slots.js';
import { expectNoLeakedTensors } from '../testing/index.js';

function slots(expertIndex: number[][], numExperts: number, capacity: number, priority?: number[], secondChoiceOffset?: 'all' | 'kept', slotOrder?: SlotOrder) {
  const index = tf.tensor2d(expertIndex, undefined, 'int32');
  const prio = priority ? tf.tensor1d(priority) : undefined;
  const r = assignSlots(index, numExperts, capacity, { priority: prio, secondChoiceOffset, slotOrder });
  const out = { slot: r.slot.arraySync(), load: Array.from(r.load.dataSync()), needed: Array.from(r.needed.dataSync()), dropped: r.dropped.dataSync()[0] };
  tf.dispose([index, prio, r.slot, r.load, r.needed, r.dropped]);
  return out;
}

// T = 4 tokens, E = 2 experts, K = 2 choices, C = 2 slots each.
const expertIndex = [[0, 1], [0, 1], [1, 0], [0, 1]];

describe('assignSlots', () => {
  it('places all first choices before any second choice, in token order', () => {
    // first choices: t0→e0 slot 0, t1→e0 slot 1, t2→e1 slot 0, t3→e0 position 2 ≥ C: dropped
    // second choices start after the kept first choices (load [2, 1]):
    //   t0→e1 slot 1, t1→e1 position 2 dropped, t2→e0 position 2 dropped, t3→e1 position 3 dropped
    expect(slots(expertIndex, 2, 2)).toEqual({
      slot: [[0, 1], [1, -1], [0, -1], [-1, -1]],
      load: [2, 2],
      needed: [4, 4],
      dropped: 4, // 8 needed − 4 kept
    });
  });

  it('places tokens by descending priority (V-MoE BPR), first choices first', () => {
    // priority [0.1, 0.9, 0.5, 0.7] → order t1, t3, t2, t0
    // first choices: t1→e0 slot 0, t3→e0 slot 1, t2→e1 slot 0, t0→e0 dropped
    // second choices (e1 has 1 kept): t1→e1 slot 1, t3→e1 dropped, t2→e0 dropped, t0→e1 dropped
    expect(slots(expertIndex, 2, 2, [0.1, 0.9, 0.5, 0.7])).toEqual({
      slot: [[-1, -1], [0, 1], [0, -1], [1, -1]],
      load: [2, 2],
      needed: [4, 4],
      dropped: 4,
    });
  });

  it('breaks priority ties in token order', () => {
    // all equal: same as token order
    expect(slots(expertIndex, 2, 2, [1, 1, 1, 1]).slot).toEqual([[0, 1], [1, -1], [0, -1], [-1, -1]]);
  });

  it("keeps the same pairs with secondChoiceOffset 'all'", () => {
    expect(slots(expertIndex, 2, 2, undefined, 'all')).toEqual(slots(expertIndex, 2, 2, undefined, 'kept'));
  });

  it('skips unused choices (-1) without counting them', () => {
    // t0 → e0 slot 0; t1 → e0 dropped (C = 1); second choices: t0 unused, t1 → e1 slot 0
    expect(slots([[0, -1], [0, 1]], 2, 1)).toEqual({ slot: [[0, -1], [-1, 0]], load: [1, 1], needed: [2, 1], dropped: 1 });
  });

  it('rejects bad input with the argument named', () => {
    const index = tf.tensor2d([[0], [2]], undefined, 'int32');
    expect(() => assignSlots(index, 2, 1)).toThrow("assignSlots: argument 'expertIndex' expected values in [-1, 2) (-1 = choice not used), got 2 at flat index 1");
    expect(() => assignSlots(index, 2, 0)).toThrow("assignSlots: argument 'capacity' expected an integer >= 1, got 0");
    expect(() => assignSlots(index, 0, 1)).toThrow("argument 'numExperts' expected an integer >= 1, got 0");
    const floatIndex = tf.tensor2d([[0], [1]]);
    expect(() => assignSlots(floatIndex as tf.Tensor2D, 2, 1)).toThrow("argument 'expertIndex' expected dtype int32, got dtype float32");
    const tooWide = tf.tensor2d([[0, 1, 0]], undefined, 'int32');
    expect(() => assignSlots(tooWide, 2, 1)).toThrow("argument 'k (expertIndex.shape[1])' expected an integer in [1, 2], got 3");
    const ok = tf.tensor2d([[0], [1]], undefined, 'int32');
    expect(() => assignSlots(ok, 2, 1, { priority: tf.tensor1d([1, NaN]) })).toThrow("argument 'priority' expected finite values, got NaN at flat index 1");
    expect(() => assignSlots(ok, 2, 1, { priority: tf.tensor1d([1, 2, 3]) })).toThrow("argument 'priority' expected shape [2], got shape [3]");
    tf.dispose([index, floatIndex, tooWide, ok]);
  });

  it('leaks no tensors', async () => {
    const index = tf.tensor2d(expertIndex, undefined, 'int32');
    const priority = tf.tensor1d([0.1, 0.9, 0.5, 0.7]);
    await expectNoLeakedTensors(() => {
      const r = assignSlots(index, 2, 2, { priority });
      tf.dispose([r.slot, r.load, r.needed, r.dropped]);
    });
    tf.dispose([index, priority]);
  });
});

describe("assignSlots with slotOrder 'tokenMajor' (DeepSpeed topkgating, drop_policy 'position')", () => {
  it('keeps one running count per expert over all choices, token after token', () => {
    // t0: e0 slot 0, e1 slot 0; t1: e0 slot 1, e1 slot 1; t2: e1 position 2, e0 position 2 — both dropped;
    // t3: both dropped. Choice-major kept t2's first choice instead of t1's second.
    expect(slots(expertIndex, 2, 2, undefined, undefined, 'tokenMajor')).toEqual({
      slot: [[0, 0], [1, 1], [-1, -1], [-1, -1]],
      load: [2, 2],
      needed: [4, 4],
      dropped: 4,
    });
  });

  it('takes tokens by descending priority, each with all its choices', () => {
    // order t1, t3, t2, t0: t1 → slots 0, 0; t3 → slots 1, 1; t2 and t0 dropped
    expect(slots(expertIndex, 2, 2, [0.1, 0.9, 0.5, 0.7], undefined, 'tokenMajor').slot).toEqual([[-1, -1], [0, 0], [-1, -1], [1, 1]]);
  });

  it('equals choice-major at K = 1, and skips unused choices', () => {
    const first = expertIndex.map((row) => [row[0]!]);
    expect(slots(first, 2, 2, undefined, undefined, 'tokenMajor')).toEqual(slots(first, 2, 2));
    // t0 → e0 slot 0, t0's second unused; t1 → e0 dropped (C = 1), t1 → e1 slot 0
    expect(slots([[0, -1], [0, 1]], 2, 1, undefined, undefined, 'tokenMajor')).toEqual({ slot: [[0, -1], [-1, 0]], load: [1, 1], needed: [2, 1], dropped: 1 });
  });

  it("rejects secondChoiceOffset 'all' (a choice-major rule) and an unknown order, by name", () => {
    const index = tf.tensor2d([[0, 1]], undefined, 'int32');
    expect(() => assignSlots(index, 2, 1, { slotOrder: 'tokenMajor', secondChoiceOffset: 'all' })).toThrow(
      "assignSlots: argument 'secondChoiceOffset' expected 'kept' (the default) with slotOrder 'tokenMajor', which keeps one running count per expert and has no second-choice offset, got 'all'",
    );
    expect(() => assignSlots(index, 2, 1, { slotOrder: 'expertMajor' as never })).toThrow("assignSlots: argument 'slotOrder' expected one of 'choiceMajor' | 'tokenMajor', got 'expertMajor'");
    index.dispose();
  });

  it('matches the slots DeepSpeed topkgating computes (golden JSON from its code), without leaking', async () => {
    interface GoldenCase { numExperts: number; expertIndex: number[][]; deepspeedPosition: { capacity: number; slot: number[][] } }
    const golden = goldenJson as unknown as { cases: GoldenCase[] };
    for (const c of golden.cases) {
      expect(slots(c.expertIndex, c.numExperts, c.deepspeedPosition.capacity, undefined, undefined, 'tokenMajor').slot).toEqual(c.deepspeedPosition.slot);
    }
    const index = tf.tensor2d(expertIndex, undefined, 'int32');
    await expectNoLeakedTensors(() => {
      const r = assignSlots(index, 2, 2, { slotOrder: 'tokenMajor', priority: undefined });
      tf.dispose([r.slot, r.load, r.needed, r.dropped]);
    });
    index.dispose();
  });
});

describe("assignSlots with pairPriority (DeepSpeed topkgating, drop_policy 'probs')", () => {
  function byScore(pairPriority: number[][], slotOrder?: SlotOrder, index = expertIndex, capacity = 2) {
    return tf.tidy(() => {
      const r = assignSlots(tf.tensor2d(index, undefined, 'int32'), 2, capacity, { pairPriority: tf.tensor2d(pairPriority), slotOrder });
      return { slot: r.slot.arraySync(), load: Array.from(r.load.dataSync()), needed: Array.from(r.needed.dataSync()), dropped: r.dropped.dataSync()[0] };
    });
  }
  const scores = [[0.9, 0.1], [0.2, 0.8], [0.7, 0.6], [0.5, 0.4]];

  it('each expert keeps its capacity pairs of highest score, wherever they are in the batch', () => {
    // expert 0 is asked by t0 (0.9), t1 (0.2), t2's second choice (0.6), t3 (0.5) → keeps t0, t2
    // expert 1 is asked by t0's second (0.1), t1's second (0.8), t2 (0.7), t3's second (0.4) → keeps t1, t2
    // token-major slots among the kept: t0 → e0 slot 0; t1 → e1 slot 0; t2 → e1 slot 1, e0 slot 1
    expect(byScore(scores, 'tokenMajor')).toEqual({ slot: [[0, -1], [-1, 0], [1, 1], [-1, -1]], load: [2, 2], needed: [4, 4], dropped: 4 });
    // choice-major numbering keeps the same pairs: first choices t0 → e0 0, t2 → e1 0; then t1 → e1 1, t2 → e0 1
    expect(byScore(scores).slot).toEqual([[0, -1], [-1, 1], [0, 1], [-1, -1]]);
  });

  it('rejects a token priority with it, a wrong shape and non-finite scores, by name', () => {
    const index = tf.tensor2d([[0, 1]], undefined, 'int32');
    expect(() => tf.tidy(() => void assignSlots(index, 2, 1, { pairPriority: tf.tensor2d([[1, 2]]), priority: tf.tensor1d([1]) }))).toThrow("assignSlots: argument 'pairPriority' expected no value with a token priority (each orders the placement), got shape [1, 2]");
    expect(() => tf.tidy(() => void assignSlots(index, 2, 1, { pairPriority: tf.tensor2d([[1], [2]]) }))).toThrow("assignSlots: argument 'pairPriority' expected shape [1, 2], got shape [2, 1]");
    expect(() => tf.tidy(() => void assignSlots(index, 2, 1, { pairPriority: tf.tensor2d([[1, NaN]]) }))).toThrow("assignSlots: argument 'pairPriority' expected finite values, got NaN at flat index 1");
    index.dispose();
  });

  it('keeps the pairs and slots DeepSpeed topkgating keeps with drop_policy probs (golden JSON, logits shifted above 0), without leaking', async () => {
    interface GoldenCase { numExperts: number; k: number; logits: number[][]; expertIndex: number[][]; deepspeedProbs: { capacity: number; kept: number[][]; slot: number[][] } }
    const golden = goldenJson as unknown as { cases: GoldenCase[] };
    for (const c of golden.cases) {
      const scores = c.expertIndex.map((row, t) => row.map((e) => c.logits[t]![e]!)); // the chosen gate logits, DeepSpeed's top_gate
      const r = tf.tidy(() => {
        const out = assignSlots(tf.tensor2d(c.expertIndex, undefined, 'int32'), c.numExperts, c.deepspeedProbs.capacity, { pairPriority: tf.tensor2d(scores), slotOrder: 'tokenMajor' });
        return out.slot.arraySync();
      });
      expect(r.map((row) => row.map((s) => (s >= 0 ? 1 : 0)))).toEqual(c.deepspeedProbs.kept);
      expect(r).toEqual(c.deepspeedProbs.slot);
    }
    const index = tf.tensor2d(expertIndex, undefined, 'int32');
    const pairPriority = tf.tensor2d(scores);
    await expectNoLeakedTensors(() => {
      const r = assignSlots(index, 2, 2, { pairPriority, slotOrder: 'tokenMajor' });
      tf.dispose([r.slot, r.load, r.needed, r.dropped]);
    });
    tf.dispose([index, pairPriority]);
  });
});

