import { checkInteger, MoEArgumentError, describeValue } from '@moekit/core';

/** How many experts survive: exactly one of `keep` and `ratio`. */
export interface PruningAmount {
  /** Experts to keep `E'`, in `[1, E]`. */
  keep?: number;
  /** Fraction of the experts to prune, in `[0, 1)`: `E' = E − ⌊ratio · E⌋` (never more pruned than asked, never all). */
  ratio?: number;
}

/**
 * The number of experts `E'` that survive pruning `numExperts` experts by `amount`. Throws an
 * `MoEArgumentError` unless exactly one of `keep` (an integer in `[1, E]`) and `ratio` (in `[0, 1)`) is given.
 */
export function keptExpertCount(numExperts: number, amount: PruningAmount, where = 'keptExpertCount'): number {
  checkInteger(where, 'numExperts', numExperts, 1);
  const { keep, ratio } = amount ?? {};
  if ((keep === undefined) === (ratio === undefined)) {
    throw new MoEArgumentError(where, 'keep | ratio', 'exactly one of keep and ratio', keep === undefined ? 'neither' : `keep ${keep} and ratio ${ratio}`);
  }
  if (keep !== undefined) {
    checkInteger(where, 'keep', keep, 1, numExperts);
    return keep;
  }
  if (typeof ratio !== 'number' || !(ratio >= 0 && ratio < 1)) {
    throw new MoEArgumentError(where, 'ratio', 'a number in [0, 1) (the fraction of experts pruned)', describeValue(ratio));
  }
  // 1e-9 absorbs float error in ratio · E (0.3 · 10 = 3.0000000000000004), never a whole expert
  return numExperts - Math.floor(ratio * numExperts + 1e-9);
}

/**
 * The indices of the `keep` experts with the highest `scores` (ties: the lower index first), in
 * ascending order, so the surviving experts keep their relative order after re-indexing.
 *
 * @example
 * ```ts
 * import { expertsToKeep } from '@moekit/pruning';
 *
 * expertsToKeep([0.3, -0.1, 0.9, 0.2], 2); // [0, 2]
 * ```
 */
export function expertsToKeep(scores: readonly number[], keep: number): number[] {
  const where = 'expertsToKeep';
  if (!Array.isArray(scores) || scores.length < 1) throw new MoEArgumentError(where, 'scores', 'a non-empty array of numbers (one per expert)', describeValue(scores));
  const bad = scores.findIndex((s) => typeof s !== 'number' || Number.isNaN(s));
  if (bad >= 0) throw new MoEArgumentError(where, 'scores', 'numbers (no NaN)', `${describeValue(scores[bad])} at index ${bad}`);
  checkInteger(where, 'keep', keep, 1, scores.length);
  const order = scores.map((_, i) => i).sort((a, b) => (scores[a]! > scores[b]! ? -1 : scores[a]! < scores[b]! ? 1 : a - b)); // descending score
  return order.slice(0, keep).sort((a, b) => a - b);
}
