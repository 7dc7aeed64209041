import * as tf from '@tensorflow/tfjs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { combine } from './combine.js';
import { dispatch } from './dispatch.js';
import type { SparseRoutingPlan } from '../contracts/routing-plan.js';

// routing.property.test.ts pins dispatch → combine for token-major plans ([T, K] pairs placed by
// assignSlots) with [T, 3] rows. This file adds the other plan kind, expert-major pairs ([E, C] with
// `token`, as expert choice and balanced assignment build them), and per-token features of rank 1 to 3.

/** A random expert-major plan: each expert holds up to C distinct tokens in its first columns. */
const expertMajorProblem = fc
  .record({
    numTokens: fc.integer({ min: 1, max: 10 }),
    numExperts: fc.integer({ min: 1, max: 4 }),
    capacity: fc.integer({ min: 1, max: 5 }),
    featureShape: fc.constantFrom([3], [2, 2], [2, 1, 2]),
  })
  .chain((p) =>
    fc.record({
      ...Object.fromEntries(Object.entries(p).map(([k, v]) => [k, fc.constant(v)])),
      tokensOf: fc.array(fc.uniqueArray(fc.integer({ min: 0, max: p.numTokens - 1 }), { maxLength: Math.min(p.capacity, p.numTokens) }), { minLength: p.numExperts, maxLength: p.numExperts }),
    }) as fc.Arbitrary<{ numTokens: number; numExperts: number; capacity: number; featureShape: number[]; tokensOf: number[][] }>,
  );

describe('dispatch → combine is the identity on kept rows (expert-major plans, any feature rank)', () => {
  it('identity experts and weight 1 return each token times the number of experts that kept it, 0 for a token no expert took', () => {
    fc.assert(
      fc.property(expertMajorProblem, fc.constantFrom('padded' as const, 'grouped' as const), (p, layout) => {
        const before = tf.memory().numTensors;
        const { numTokens: T, numExperts: E, capacity: C, featureShape, tokensOf } = p;
        const pad = (row: number[], fill: (c: number) => number) => Array.from({ length: C }, (_, c) => (c < row.length ? fill(c) : -1));
        const used = tokensOf.map((row) => pad(row, () => 1).map((u) => (u === 1 ? 1 : 0))); // [E, C]
        tf.tidy(() => {
          const plan: SparseRoutingPlan = {
            numExperts: E,
            capacity: C,
            numTokens: T,
            token: tf.tensor2d(tokensOf.map((row) => pad(row, (c) => row[c]!)), [E, C], 'int32'), // [E, C]
            expertIndex: tf.tensor2d(tokensOf.map((row, e) => pad(row, () => e)), [E, C], 'int32'), // [E, C]
            slot: tf.tensor2d(tokensOf.map((row) => pad(row, (c) => c)), [E, C], 'int32'), // [E, C]
            combineWeight: tf.tensor2d(used, [E, C], 'float32'), // [E, C] weight 1 on every kept pair
            load: tf.tensor1d(tokensOf.map((row) => row.length), 'int32'),
            needed: tf.tensor1d(tokensOf.map((row) => row.length), 'int32'),
            dropped: tf.scalar(0, 'int32'),
            groupSizes: tokensOf.map((row) => row.length),
          };
          const width = featureShape.reduce((a, b) => a * b, 1);
          const x = tf.reshape(tf.add(tf.range(0, T * width), 1), [T, ...featureShape]); // [T, ...F] distinct integers
          const times = new Array<number>(T).fill(0); // experts holding each token
          tokensOf.flat().forEach((t) => times[t]!++);
          const expected = tf.mul(x, tf.reshape(tf.tensor1d(times), [T, ...featureShape.map(() => 1)])); // [T, ...F]
          const y = combine(dispatch(x, plan, layout), plan, layout); // identity experts
          expect(y.shape).toEqual([T, ...featureShape]);
          expect(Array.from(y.dataSync())).toEqual(Array.from(expected.dataSync()));
        });
        expect(tf.memory().numTensors).toBe(before);
      }),
      { numRuns: 150 },
    );
  });
});
