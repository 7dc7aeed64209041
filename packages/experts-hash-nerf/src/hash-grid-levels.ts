import { checkInteger, MoEArgumentError } from '@moekit/core';

/** One level of a multi-resolution hash grid. */
export interface HashGridLevel {
  /** Grid resolution `N_l`: the level has `N_l + 1` vertices per axis over the unit cube. */
  resolution: number;
  /** True when the level's `(N_l + 1)^3` vertices fit the table: indexed 1:1, no hash. */
  dense: boolean;
  /** Entries of this level's table: `(N_l + 1)^3` when dense, else `2^log2T`. */
  tableSize: number;
  /** First row of this level in the encoding's concatenated table. */
  offset: number;
}

/**
 * The levels of an Instant-NGP hash grid (Müller et al. 2022, https://arxiv.org/abs/2201.05989):
 * resolutions `N_l = ⌊N_min · b^l⌋` (Eq. 2) with growth factor `b = exp((ln N_max − ln N_min) / (L − 1))`
 * (Eq. 3; `b = 1` for one level). As in tiny-cuda-nn, a level whose `(N_l + 1)^3` vertices fit in
 * `T = 2^log2T` entries indexes them 1:1 (`x + y·(N+1) + z·(N+1)²`); the others use the spatial hash.
 *
 * @param numLevels `L` (≥ 1).
 * @param log2TableSize `log2 T` (1..24).
 * @param baseResolution `N_min` (≥ 1).
 * @param finestResolution `N_max` (≥ `N_min`).
 * @example
 * ```ts
 * import { hashGridLevels } from '@moekit/experts-hash-nerf';
 *
 * hashGridLevels(5, 14, 2, 32).map((l) => l.resolution); // [2, 4, 8, 16, 32] (b = 2)
 * ```
 */
export function hashGridLevels(numLevels: number, log2TableSize: number, baseResolution: number, finestResolution: number): HashGridLevel[] {
  const where = 'hashGridLevels';
  checkInteger(where, 'numLevels', numLevels, 1);
  checkInteger(where, 'log2TableSize', log2TableSize, 1, 24);
  checkInteger(where, 'baseResolution', baseResolution, 1);
  checkInteger(where, 'finestResolution', finestResolution, 1);
  if (baseResolution > finestResolution) {
    throw new MoEArgumentError(where, 'baseResolution', `<= finestResolution (${finestResolution})`, String(baseResolution));
  }
  const T = 2 ** log2TableSize;
  // Müller et al. 2022, Eq. 3: b = exp((ln N_max − ln N_min) / (L − 1)).
  const b = numLevels === 1 ? 1 : Math.exp((Math.log(finestResolution) - Math.log(baseResolution)) / (numLevels - 1));
  const levels: HashGridLevel[] = [];
  let offset = 0;
  for (let l = 0; l < numLevels; l++) {
    // Eq. 2: N_l = ⌊N_min · b^l⌋; the 1e-9 keeps an exact power (2 · 2^4 = 31.999…) from flooring one short.
    const resolution = Math.min(finestResolution, Math.floor(baseResolution * b ** l + 1e-9));
    const vertices = (resolution + 1) ** 3;
    const dense = vertices <= T;
    const tableSize = dense ? vertices : T;
    levels.push({ resolution, dense, tableSize, offset });
    offset += tableSize;
  }
  return levels;
}
