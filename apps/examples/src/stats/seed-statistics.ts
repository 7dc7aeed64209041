/**
 * What every reproduction reports over its seeds: mean ± sample standard deviation, and the verdict
 * rule "a difference counts when it is beyond two standard errors of the difference of the means"
 * (Welch's standard error `sqrt(sd_a²/n_a + sd_b²/n_b)`, the rule RESULTS.md states per section).
 */

/** Mean, sample standard deviation (n − 1; 0 for one value) and count of `values`. */
export interface MeanSd {
  mean: number;
  sd: number;
  n: number;
}

/** Mean and sample standard deviation of `values` (at least one finite number). */
export function meanSd(values: readonly number[]): MeanSd {
  if (values.length === 0 || !values.every(Number.isFinite)) {
    throw new Error(`meanSd: values must be at least one finite number, got [${values.join(', ')}]`);
  }
  const n = values.length;
  const mean = values.reduce((a, b) => a + b, 0) / n;
  const sd = n < 2 ? 0 : Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / (n - 1));
  return { mean, sd, n };
}

/** `"0.9120 ± 0.0031"`: mean ± sample sd with `digits` decimals. */
export function formatMeanSd(values: readonly number[], digits = 4): string {
  const { mean, sd } = meanSd(values);
  return `${mean.toFixed(digits)} ± ${sd.toFixed(digits)}`;
}

/** The difference `mean(a) − mean(b)`, its standard error and whether it is beyond two of them. */
export interface Difference {
  /** `mean(a) − mean(b)`. */
  diff: number;
  /** Welch's standard error of the difference `sqrt(sd_a²/n_a + sd_b²/n_b)`. */
  se: number;
  /** `|diff| > 2·se`: the verdict rule. */
  significant: boolean;
}

/** Compares two sets of per-seed results by the two-standard-error rule. */
export function compareMeans(a: readonly number[], b: readonly number[]): Difference {
  const x = meanSd(a);
  const y = meanSd(b);
  const diff = x.mean - y.mean;
  const se = Math.sqrt(x.sd ** 2 / x.n + y.sd ** 2 / y.n);
  return { diff, se, significant: Math.abs(diff) > 2 * se };
}

/** Shares, CV and dead experts of a per-expert load: core's, re-exported so a reproduction imports its statistics from one place. */
export { loadHealth, type LoadHealth } from '@moekit/core';
