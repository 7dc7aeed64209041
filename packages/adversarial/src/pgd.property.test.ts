// Property: every PGD iterate lies in B∞(x, ε) ∩ [lo, hi], whatever the objective, ε, α, steps, range and start.
import * as tf from '@tensorflow/tfjs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { pgd } from './pgd.js';

describe('pgd (property)', () => {
  it('stays inside the ε-ball and the valid range', () => {
    fc.assert(
      fc.property(
        fc.record({
          lo: fc.constantFrom(0, -1, -0.5),
          width: fc.constantFrom(1, 2, 0.5),
          epsilon: fc.double({ min: 0, max: 0.6, noNaN: true }),
          stepScale: fc.double({ min: 0, max: 2, noNaN: true }),
          steps: fc.integer({ min: 1, max: 4 }),
          randomStart: fc.boolean(),
          seed: fc.integer({ min: 0, max: 1000 }),
          values: fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 12, maxLength: 12 }),
        }),
        ({ lo, width, epsilon, stepScale, steps, randomStart, seed, values }) => {
          const hi = lo + width;
          const x = tf.tensor4d(values.map((v) => lo + v * width), [1, 3, 4, 1]);
          const weights = tf.randomNormal([1, 3, 4, 1], 0, 1, 'float32', seed);
          // a non-linear objective whose gradient sign changes along the path
          const objective = (z: tf.Tensor) => tf.sum(tf.sin(tf.mul(tf.mul(z, weights), 7))) as tf.Scalar;
          const adv = pgd(objective, x, { epsilon, stepSize: stepScale * epsilon, steps, randomStart, clipMin: lo, clipMax: hi, seed });
          const a = adv.dataSync();
          const c = x.dataSync();
          for (let i = 0; i < a.length; i++) {
            // the bounds as float32 computes them: fl(x − ε) ≤ x' ≤ fl(x + ε)
            expect(a[i]!).toBeGreaterThanOrEqual(Math.max(lo, Math.fround(c[i]! - Math.fround(epsilon))));
            expect(a[i]!).toBeLessThanOrEqual(Math.min(hi, Math.fround(c[i]! + Math.fround(epsilon))));
          }
          tf.dispose([x, weights, adv]);
        },
      ),
      { numRuns: 60, seed: 42 },
    );
  });
});
