import { describe, expect, it } from 'vitest';
import { buildHashTable } from './hash-table.js';
import { SeededRandom } from './seeded-random.js';

const counts = (table: Int32Array, numExperts: number) => Array.from({ length: numExperts }, (_, e) => table.filter((x) => x === e).length);

describe('buildHashTable', () => {
  it("'random': ⌊E · u⌋ of the seeded draws, the same for the same seed (golden)", () => {
    // mulberry32(1) draws u = 0.6271, 0.0027, 0.5274, 0.9811, 0.9684, 0.2811, 0.6128, 0.7207 → ⌊4u⌋
    const table = buildHashTable({ size: 8, numExperts: 4, seed: 1 });
    expect(Array.from(table)).toEqual([2, 0, 2, 3, 3, 1, 2, 2]);
    expect(buildHashTable({ size: 8, numExperts: 4, seed: 1 })).toEqual(table);
    expect(Array.from(buildHashTable({ size: 8, numExperts: 4, seed: 2 }))).not.toEqual(Array.from(table));
  });

  it("'balanced' with frequencies: most frequent first, each to the emptiest expert (hand-computed)", () => {
    // order by frequency: t0 (10), t2 (7), t3 (3), t4 (3), t5 (2), t1 (1); totals [e0, e1]:
    // t0 → e0 [10, 0]; t2 → e1 [10, 7]; t3 → e1 [10, 10]; t4 → e0 (tie: lower) [13, 10]; t5 → e1 [13, 12]; t1 → e1 [13, 13]
    const table = buildHashTable({ size: 6, numExperts: 2, kind: 'balanced', frequencies: [10, 1, 7, 3, 3, 2], seed: 0 });
    expect(Array.from(table)).toEqual([0, 1, 1, 1, 0, 1]);
  });

  it("'balanced' without frequencies: an equal number of entries per expert, shuffled by the seed", () => {
    const table = buildHashTable({ size: 1000, numExperts: 8, kind: 'balanced', seed: 3 });
    expect(counts(table, 8)).toEqual(new Array(8).fill(125)); // 1000 / 8
    expect(Array.from(table.slice(0, 16))).not.toEqual(Array.from({ length: 16 }, (_, i) => i % 8)); // not round-robin by id
    expect(counts(buildHashTable({ size: 10, numExperts: 4, kind: 'balanced', seed: 3 }), 4)).toEqual([3, 3, 2, 2]); // ⌈10/4⌉, ⌊10/4⌋
    // 'random' is only balanced in expectation: 1000 draws over 8 experts, each count ~ Binomial(1000, 1/8), 125 ± 10.5
    const random = counts(buildHashTable({ size: 1000, numExperts: 8, seed: 3 }), 8);
    expect(random.reduce((a, b) => a + b, 0)).toBe(1000);
    random.forEach((c) => expect(Math.abs(c - 125)).toBeLessThan(4 * 10.5));
  });

  it('per-batch load: a frequency-balanced table keeps Zipfian text near the mean, a random one does not (why capacity 2)', () => {
    // V = 32000 ids, E = 8 experts, batches of T = 1024 ids, 50 batches, ids ~ uniform or Zipf(1) (p_v ∝ 1/(v + 1)).
    // Measured when written (200 batches; mean max-load / mean-load, dropped % at capacity factor 1 / 1.25 / 2):
    //   uniform ids, any table:         1.13, 3.2 / 0.0 / 0 %
    //   Zipf ids, 'random' table:       1.52, 8.8 / 3.4 / 0 %
    //   Zipf ids, 'balanced' (no freq): 1.39, 10.4 / 2.4 / 0 %
    //   Zipf ids, 'balanced' with freq: 1.13, 3.2 / 0.0 / 0 %
    const V = 32000;
    const E = 8;
    const T = 1024;
    const zipf = Array.from({ length: V }, (_, v) => 1 / (v + 1));
    const cdf: number[] = [];
    let sum = 0;
    for (const f of zipf) cdf.push((sum += f));
    const draw = (random: SeededRandom) => {
      const u = random.uniform() * sum;
      let lo = 0;
      let hi = V - 1;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (cdf[mid]! < u) lo = mid + 1;
        else hi = mid;
      }
      return lo;
    };
    const measure = (table: Int32Array) => {
      const random = new SeededRandom(7);
      let peak = 0;
      let droppedAt2 = 0;
      for (let batch = 0; batch < 50; batch++) {
        const load = new Array<number>(E).fill(0);
        for (let t = 0; t < T; t++) load[table[draw(random)]!]!++;
        peak += Math.max(...load) / (T / E) / 50;
        droppedAt2 += load.reduce((a, l) => a + Math.max(0, l - (2 * T) / E), 0);
      }
      return { peak, droppedAt2 };
    };
    const random = measure(buildHashTable({ size: V, numExperts: E, seed: 1 }));
    const balanced = measure(buildHashTable({ size: V, numExperts: E, seed: 1, kind: 'balanced', frequencies: zipf }));
    expect(random.peak).toBeGreaterThan(1.3); // the experts holding "the", "of", "and" overflow a factor 1.25
    expect(balanced.peak).toBeLessThan(1.2);
    expect(random.droppedAt2 + balanced.droppedAt2).toBe(0); // the default factor 2 drops nothing here
  });

  it('rejects bad arguments by name', () => {
    expect(() => buildHashTable({ size: 0, numExperts: 2, seed: 1 })).toThrow("buildHashTable: argument 'size' expected an integer >= 1, got 0");
    expect(() => buildHashTable({ size: 4, numExperts: 2, seed: 1.5 })).toThrow("argument 'seed' expected an integer >= 0, got 1.5");
    expect(() => buildHashTable({ size: 4, numExperts: 2, seed: 1, kind: 'modulo' as never })).toThrow("argument 'kind' expected one of 'random' | 'balanced', got 'modulo'");
    expect(() => buildHashTable({ size: 4, numExperts: 2, seed: 1, frequencies: [1, 1, 1, 1] })).toThrow("argument 'frequencies' expected undefined unless the table is 'balanced'");
    expect(() => buildHashTable({ size: 4, numExperts: 2, seed: 1, kind: 'balanced', frequencies: [1, 1] })).toThrow("argument 'frequencies' expected 4 numbers (one per entry), got 2 numbers");
    expect(() => buildHashTable({ size: 2, numExperts: 2, seed: 1, kind: 'balanced', frequencies: [1, -1] })).toThrow("argument 'frequencies' expected finite numbers >= 0, got -1 at index 1");
  });
});
