/**
 * The primes of Instant-NGP's spatial hash (Müller et al. 2022, Eq. 4), one per axis: `π1 = 1`,
 * `π2 = 2654435761`, `π3 = 805459861`. The last two exceed int32, so products must wrap modulo 2^32.
 */
export const HASH_PRIMES: readonly [number, number, number] = [1, 2654435761, 805459861];

/**
 * Instant-NGP's spatial hash of an integer grid vertex, Müller et al. 2022 ("Instant Neural Graphics
 * Primitives with a Multiresolution Hash Encoding", https://arxiv.org/abs/2201.05989), Eq. 4:
 * `h(x) = (x1·π1 ⊕ x2·π2 ⊕ x3·π3) mod T` with `T = 2^log2T`. Exact: each product is taken modulo 2^32
 * with `Math.imul` (as tiny-cuda-nn's uint32 arithmetic wraps), XOR-ed as uint32, and reduced with a
 * mask (`T` is a power of two), so no float rounding touches the hash.
 *
 * @param x vertex coordinate on axis 1 (an integer ≥ 0).
 * @param y vertex coordinate on axis 2.
 * @param z vertex coordinate on axis 3.
 * @param log2T log2 of the table size (1..24).
 * @example
 * ```ts
 * import { spatialHash } from '@moekit/experts-hash-nerf';
 *
 * spatialHash(1, 1, 1, 14); // (1 ⊕ 2654435761 ⊕ 805459861) mod 2^14 = 11813
 * ```
 */
export function spatialHash(x: number, y: number, z: number, log2T: number): number {
  // Math.imul multiplies modulo 2^32 (as int32 bit patterns); `| 0` turns the primes into those bit patterns.
  const h = x ^ Math.imul(y, HASH_PRIMES[1] | 0) ^ Math.imul(z, HASH_PRIMES[2] | 0);
  return (h & ((1 << log2T) - 1)) >>> 0; // mod 2^log2T: the low log2T bits
}
