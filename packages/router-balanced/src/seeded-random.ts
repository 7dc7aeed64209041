/**
 * A seeded pseudo-random stream on the host, the same on every backend and platform (unlike tfjs's
 * seeded ops, whose draws depend on the backend): mulberry32 (Tommy Ettinger's 32-bit generator) for
 * `U[0, 1)`, Box-Muller for `N(0, 1)`. Used only at construction, to draw fixed tables and projections
 * from a seed — never on a route path.
 */
export class SeededRandom {
  private state: number;

  /** Starts the stream at `seed` (any finite number; its low 32 bits are used). */
  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** The next draw from `U[0, 1)`. */
  uniform(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let z = Math.imul(this.state ^ (this.state >>> 15), 1 | this.state);
    z = (z + Math.imul(z ^ (z >>> 7), 61 | z)) ^ z;
    return ((z ^ (z >>> 14)) >>> 0) / 4294967296;
  }

  /** The next integer drawn uniformly from `[0, n)`. */
  integer(n: number): number {
    return Math.min(n - 1, Math.floor(this.uniform() * n));
  }

  /** The next draw from `N(0, 1)` (Box-Muller; one uniform pair per draw). */
  normal(): number {
    const u = 1 - this.uniform(); // (0, 1]: log stays finite
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.uniform());
  }
}
