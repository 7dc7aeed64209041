import { describe, expect, it } from 'vitest';
import { buildHashTable } from './hash-table.js';

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

  it('rejects bad arguments by name', () => {
    expect(() => buildHashTable({ size: 0, numExperts: 2, seed: 1 })).toThrow("buildHashTable: argument 'size' expected an integer >= 1, got 0");
    expect(() => buildHashTable({ size: 4, numExperts: 2, seed: 1.5 })).toThrow("argument 'seed' expected an integer >= 0, got 1.5");
    expect(() => buildHashTable({ size: 4, numExperts: 2, seed: 1, kind: 'modulo' as never })).toThrow("argument 'kind' expected one of 'random' | 'balanced', got 'modulo'");
    expect(() => buildHashTable({ size: 4, numExperts: 2, seed: 1, frequencies: [1, 1, 1, 1] })).toThrow("argument 'frequencies' expected undefined unless the table is 'balanced'");
    expect(() => buildHashTable({ size: 4, numExperts: 2, seed: 1, kind: 'balanced', frequencies: [1, 1] })).toThrow("argument 'frequencies' expected 4 numbers (one per entry), got 2 numbers");
    expect(() => buildHashTable({ size: 2, numExperts: 2, seed: 1, kind: 'balanced', frequencies: [1, -1] })).toThrow("argument 'frequencies' expected finite numbers >= 0, got -1 at index 1");
  });
});
