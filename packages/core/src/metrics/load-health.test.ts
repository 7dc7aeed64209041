import { describe, expect, it } from 'vitest';
import { loadHealth } from './load-health.js';

describe('loadHealth', () => {
  it('gives shares, the population CV and dead experts (hand-computed)', () => {
    // load 6 2 0 0: mean 2, deviations 4 0 −2 −2, population variance 24/4 = 6, CV sqrt(6)/2
    expect(loadHealth([6, 2, 0, 0])).toEqual({ shares: [0.75, 0.25, 0, 0], cv: Math.sqrt(6) / 2, dead: 2 });
    expect(loadHealth([0, 0])).toEqual({ shares: [0, 0], cv: 0, dead: 2 }); // nothing routed
    expect(() => loadHealth([])).toThrow("loadHealth: argument 'load' expected at least one count ≥ 0, got []");
    expect(() => loadHealth([1, NaN])).toThrow("loadHealth: argument 'load' expected at least one count ≥ 0, got [1, NaN]");
  });
});
