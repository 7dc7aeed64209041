/**
 * A reproducible stream of seeds for random ops (`tf.randomNormal(…, seed)`): each call of
 * {@link SeedStream.next} returns the next seed, so a seeded router draws fresh noise every step yet
 * the same sequence on every run. Unseeded, it returns `undefined` (tfjs then draws from `Math.random`).
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { SeedStream } from '@moekit/core';
 *
 * const seeds = new SeedStream(42);
 * const noise = tf.randomNormal([T, E], 0, 1, 'float32', seeds.next());
 * ```
 */
export class SeedStream {
  /** The seed the stream started from (`undefined` = unseeded). */
  readonly seed: number | undefined;
  private count = 0;

  /** Starts a stream at `seed`. */
  constructor(seed?: number) {
    this.seed = seed;
  }

  /** The next seed, or `undefined` when unseeded. */
  next(): number | undefined {
    if (this.seed === undefined) return undefined;
    // A large odd stride keeps successive seeds far apart in tfjs's seedrandom.
    return this.seed + 0x9e3779b1 * ++this.count;
  }

  /** Restarts the stream, so the next draws repeat the first ones. */
  reset(): void {
    this.count = 0;
  }
}
