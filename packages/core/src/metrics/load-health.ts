import { MoEArgumentError } from '../util/errors.js';
import { describe } from '../util/validate.js';

/** How evenly a per-expert load is spread: each expert's share, their coefficient of variation, dead experts. */
export interface LoadHealth {
  /** `load_i / Σ load` per expert (all 0 when nothing was routed). */
  shares: number[];
  /** Coefficient of variation of the load over experts (population sd / mean): 0 balanced, `sqrt(E − 1)` all on one expert. */
  cv: number;
  /** Experts that received no token. */
  dead: number;
}

/**
 * Shares, CV and dead experts of a per-expert load (counts of kept tokens), as {@link RoutingHealth}
 * reports them and as the reproductions compare routers.
 *
 * @example
 * ```ts
 * import { loadHealth } from '@moekit/core';
 *
 * loadHealth([3, 1, 0, 0]); // { shares: [0.75, 0.25, 0, 0], cv: 1.2247…, dead: 2 }
 * ```
 */
export function loadHealth(load: readonly number[]): LoadHealth {
  if (load.length === 0 || !load.every((l) => Number.isFinite(l) && l >= 0)) {
    throw new MoEArgumentError('loadHealth', 'load', 'at least one count ≥ 0', describe(load));
  }
  const total = load.reduce((a, b) => a + b, 0);
  const mean = total / load.length;
  const shares = load.map((l) => (total === 0 ? 0 : l / total));
  const cv = mean === 0 ? 0 : Math.sqrt(load.reduce((a, l) => a + (l - mean) ** 2, 0) / load.length) / mean;
  return { shares, cv, dead: load.filter((l) => l === 0).length };
}
