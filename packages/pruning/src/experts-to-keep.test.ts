import { describe, expect, it } from 'vitest';
import { expertsToKeep, keptExpertCount } from './experts-to-keep.js';

describe('keptExpertCount', () => {
  it("E' = E − ⌊ratio · E⌋, or keep itself", () => {
    expect(keptExpertCount(8, { ratio: 0.5 })).toBe(4); // 8 − 4
    expect(keptExpertCount(10, { ratio: 0.3 })).toBe(7); // 0.3 · 10 = 3.0000000000000004 → 3 pruned
    expect(keptExpertCount(6, { ratio: 0.25 })).toBe(5); // ⌊1.5⌋ = 1 pruned
    expect(keptExpertCount(4, { ratio: 0.99 })).toBe(1); // ⌊3.96⌋ = 3 pruned, never all
    expect(keptExpertCount(4, { ratio: 0 })).toBe(4);
    expect(keptExpertCount(4, { keep: 3 })).toBe(3);
  });

  it('rejects bad amounts by name', () => {
    expect(() => keptExpertCount(4, { keep: 5 })).toThrow("keptExpertCount: argument 'keep' expected an integer in [1, 4], got 5");
    expect(() => keptExpertCount(4, { keep: 1.5 })).toThrow("argument 'keep' expected an integer in [1, 4], got 1.5");
    expect(() => keptExpertCount(4, { ratio: Number.NaN })).toThrow("argument 'ratio' expected a number in [0, 1) (the fraction of experts pruned), got NaN");
  });
});

describe('expertsToKeep', () => {
  it('keeps the highest scores, ties to the lower index, returned ascending', () => {
    expect(expertsToKeep([0.3, -0.1, 0.9, 0.2], 2)).toEqual([0, 2]);
    expect(expertsToKeep([1, 2, 2, 2, 0], 2)).toEqual([1, 2]); // three tie at 2: experts 1 and 2 win
    expect(expertsToKeep([-Infinity, Infinity, 0], 1)).toEqual([1]);
    expect(expertsToKeep([5, 4], 2)).toEqual([0, 1]);
  });

  it('rejects bad scores by name', () => {
    expect(() => expertsToKeep([1, Number.NaN], 1)).toThrow("expertsToKeep: argument 'scores' expected numbers (no NaN), got NaN at index 1");
    expect(() => expertsToKeep([], 1)).toThrow("expertsToKeep: argument 'scores' expected a non-empty array of numbers (one per expert), got []");
    expect(() => expertsToKeep([1, 2], 3)).toThrow("expertsToKeep: argument 'keep' expected an integer in [1, 2], got 3");
  });
});
