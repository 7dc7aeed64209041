import { describe, expect, it } from 'vitest';
import { compareMeans, formatMeanSd, loadHealth, meanSd } from './seed-statistics.js';

describe('seed statistics', () => {
  it('computes the sample standard deviation', () => {
    // mean 2, deviations -1 0 1: Σ² = 2, / (n − 1) = 1
    expect(meanSd([1, 2, 3])).toEqual({ mean: 2, sd: 1, n: 3 });
    expect(meanSd([5])).toEqual({ mean: 5, sd: 0, n: 1 });
    expect(formatMeanSd([1, 2, 3], 2)).toBe('2.00 ± 1.00');
    expect(() => meanSd([])).toThrow(/at least one finite number/);
    expect(() => meanSd([1, NaN])).toThrow(/NaN/);
  });

  it('applies the two-standard-error rule', () => {
    // a: mean 2, sd 1; b: mean 0, sd 1; se = sqrt(1/3 + 1/3) = 0.8165; 2·se = 1.633 < 2
    const d = compareMeans([1, 2, 3], [-1, 0, 1]);
    expect(d.diff).toBe(2);
    expect(d.se).toBeCloseTo(Math.sqrt(2 / 3), 12);
    expect(d.significant).toBe(true);
    expect(compareMeans([1, 2, 3], [0.5, 1.5, 2.5]).significant).toBe(false); // diff 0.5 < 1.63
  });

  it('reports load shares, CV and dead experts', () => {
    // load 3 1 0 0: mean 1, deviations 2 0 -1 -1: population variance 6/4, sd 1.2247
    const h = loadHealth([3, 1, 0, 0]);
    expect(h.shares).toEqual([0.75, 0.25, 0, 0]);
    expect(h.cv).toBeCloseTo(Math.sqrt(1.5), 12);
    expect(h.dead).toBe(2);
    expect(loadHealth([2, 2, 2])).toEqual({ shares: [1 / 3, 1 / 3, 1 / 3], cv: 0, dead: 0 });
    expect(() => loadHealth([-1])).toThrow("loadHealth: argument 'load' expected at least one count ≥ 0, got [-1]");
  });
});
