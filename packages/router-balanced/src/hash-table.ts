import { checkInteger, checkOneOf, describeValue, MoEArgumentError, rejectUnknownOptions } from '@moekit/core';
import { SeededRandom } from './seeded-random.js';

/**
 * How a hash table spreads its entries over the experts (Roller et al. 2021, §3): `'random'` — each
 * entry an independent uniform draw (the paper's "Random Hash"); `'balanced'` — the paper's "Balanced
 * assignment": with token frequencies, the most frequent tokens first, each to the expert whose
 * total frequency is lowest so far; without, an equal number of entries per expert, shuffled.
 */
export type HashTableKind = 'random' | 'balanced';

/** Arguments of {@link buildHashTable}. */
export interface HashTableArgs {
  /** Entries `V` (vocabulary size, or buckets). */
  size: number;
  /** Experts `E` the entries map to. */
  numExperts: number;
  /** How entries are spread. Default `'random'`. */
  kind?: HashTableKind;
  /** `[V]` frequency of each entry in the training data (`'balanced'` only): the paper's greedy balancing. */
  frequencies?: readonly number[];
  /** Seed of the draws (integer ≥ 0; its low 32 bits are used). */
  seed: number;
}

const KNOWN = ['size', 'numExperts', 'kind', 'frequencies', 'seed'];

/**
 * A fixed hash `[V] → expert` for hash routing (Roller et al. 2021, "Hash Layers For Large Sparse
 * Models", https://arxiv.org/abs/2106.04426, §3), drawn on the host from `seed` with a portable
 * generator, so the same seed gives the same table on every backend and after a save and load.
 *
 * - `'random'`: `table[v] = ⌊E · u_v⌋`, `u_v ~ U[0, 1)` (Random Hash).
 * - `'balanced'` with `frequencies`: entries in decreasing frequency (ties by index), each to the expert
 *   with the lowest total frequency so far (ties to the lower expert) — the paper's Balanced assignment,
 *   greedy "most frequent tokens to the emptiest buckets" (deterministic; `seed` unused).
 * - `'balanced'` without: a seeded shuffle of the entries, the `i`-th to expert `i mod E`, so every
 *   expert holds `⌊V/E⌋` or `⌈V/E⌉` entries and a uniform id stream loads them equally.
 *
 * @example
 * ```ts
 * import { buildHashTable } from '@moekit/router-balanced';
 *
 * const table = buildHashTable({ size: 6, numExperts: 2, kind: 'balanced', frequencies: [10, 1, 7, 3, 3, 2], seed: 0 });
 * // Int32Array [0, 1, 1, 1, 0, 1]: each expert's tokens total 13
 * ```
 */
export function buildHashTable(args: HashTableArgs): Int32Array {
  const where = 'buildHashTable';
  rejectUnknownOptions(where, args, KNOWN);
  checkInteger(where, 'size', args.size, 1);
  checkInteger(where, 'numExperts', args.numExperts, 1);
  checkInteger(where, 'seed', args.seed, 0);
  const kind = args.kind ?? 'random';
  checkOneOf(where, 'kind', kind, ['random', 'balanced']);
  const { size, numExperts, frequencies } = args;
  if (frequencies !== undefined) checkFrequencies(where, 'frequencies', frequencies, size, kind);
  const table = new Int32Array(size);
  const random = new SeededRandom(args.seed);
  if (kind === 'random') {
    for (let v = 0; v < size; v++) table[v] = random.integer(numExperts);
    return table;
  }
  if (frequencies === undefined) {
    const order = Array.from({ length: size }, (_, v) => v);
    for (let i = size - 1; i > 0; i--) { // Fisher-Yates
      const j = random.integer(i + 1);
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    order.forEach((v, i) => { table[v] = i % numExperts; });
    return table;
  }
  const order = Array.from({ length: size }, (_, v) => v).sort((a, b) => frequencies[b]! - frequencies[a]! || a - b);
  const total = new Array<number>(numExperts).fill(0);
  for (const v of order) {
    let emptiest = 0;
    for (let e = 1; e < numExperts; e++) if (total[e]! < total[emptiest]!) emptiest = e;
    table[v] = emptiest;
    total[emptiest]! += frequencies[v]!;
  }
  return table;
}

/** Throws unless `frequencies` holds `size` finite numbers ≥ 0 and the table is `'balanced'`. */
export function checkFrequencies(where: string, name: string, frequencies: readonly number[], size: number, kind: HashTableKind): void {
  if (kind !== 'balanced') throw new MoEArgumentError(where, name, "undefined unless the table is 'balanced'", `${frequencies.length} frequencies with '${kind}'`);
  if (!Array.isArray(frequencies) || frequencies.length !== size) {
    throw new MoEArgumentError(where, name, `${size} numbers (one per entry)`, Array.isArray(frequencies) ? `${frequencies.length} numbers` : describeValue(frequencies));
  }
  const bad = frequencies.findIndex((f) => typeof f !== 'number' || !Number.isFinite(f) || f < 0);
  if (bad >= 0) throw new MoEArgumentError(where, name, 'finite numbers >= 0', `${describeValue(frequencies[bad])} at index ${bad}`);
}
