import * as tf from '@tensorflow/tfjs-core';

/** What {@link countHostReads} saw. */
export interface HostReadCount<R> {
  /** Synchronous reads (`dataSync`, `arraySync`, `bufferSync` through `engine.readSync`). */
  sync: number;
  /** Asynchronous reads (`data`, `array` through `engine.read`). */
  async: number;
  /** What `fn` returned. */
  result: R;
}

/**
 * Runs `fn` and counts the device-to-host reads it makes through the tfjs engine — what
 * `dataSync`, `arraySync` and `data` go through, and what stalls a GPU backend. A backend kernel
 * reading its own inputs (the cpu backend's `gather`, `scatterND`) goes through the backend, not the
 * engine, and is not counted: on a GPU backend it is no host read.
 *
 * @example
 * ```ts
 * const { sync } = countHostReads(() => optimizer.minimize(loss)); // 0 for a padded MoE step
 * ```
 */
export function countHostReads<R>(fn: () => R): HostReadCount<R> {
  const engine = tf.engine() as unknown as { readSync: (dataId: object) => unknown; read: (dataId: object) => Promise<unknown> };
  const { readSync, read } = engine;
  let sync = 0;
  let async = 0;
  engine.readSync = function (this: unknown, dataId: object) {
    sync++;
    return readSync.call(this, dataId);
  };
  engine.read = function (this: unknown, dataId: object) {
    async++;
    return read.call(this, dataId);
  };
  try {
    const result = fn();
    return { sync, async, result };
  } finally {
    engine.readSync = readSync;
    engine.read = read;
  }
}
