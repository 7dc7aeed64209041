import { MoEArgumentError } from '@moekit/core';

/**
 * How well a learned partition recovers a true one: the largest fraction of locations on which
 * `learned[i]` maps to `truth[i]` under a one-to-one relabelling of the learned labels (best over all
 * permutations of `max(#learned, #truth)` labels — exact, for the few experts a gate map has; at most 8).
 * 1 is a perfect recovery; chance for `R` equal regions is about `1/R`.
 *
 * @example
 * ```ts
 * partitionAgreement([1, 1, 0, 0], [0, 0, 1, 1]); // 1: the same partition, labels swapped
 * ```
 */
export function partitionAgreement(learned: ArrayLike<number>, truth: ArrayLike<number>): number {
  const where = 'partitionAgreement';
  if (learned.length !== truth.length || learned.length === 0) throw new MoEArgumentError(where, 'learned', `${truth.length} labels (truth's length, at least 1)`, `${learned.length}`);
  let labels = 0;
  for (let i = 0; i < learned.length; i++) labels = Math.max(labels, learned[i]! + 1, truth[i]! + 1);
  if (labels > 8) throw new MoEArgumentError(where, 'labels', 'at most 8 distinct labels (exhaustive search)', String(labels));
  const counts = Array.from({ length: labels }, () => new Array<number>(labels).fill(0)); // counts[learned][truth]
  for (let i = 0; i < learned.length; i++) counts[learned[i]!]![truth[i]!]! += 1;
  let best = 0;
  const used = new Array<boolean>(labels).fill(false);
  const search = (l: number, sum: number): void => {
    if (l === labels) { best = Math.max(best, sum); return; }
    for (let t = 0; t < labels; t++) {
      if (used[t]) continue;
      used[t] = true;
      search(l + 1, sum + counts[l]![t]!);
      used[t] = false;
    }
  };
  search(0, 0);
  return best / learned.length;
}
