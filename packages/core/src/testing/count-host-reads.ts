import * as tf from '@tensorflow/tfjs-core';

/** Host reads counted by {@link countHostReads}. */
export interface HostReads {
  /** Synchronous reads: `dataSync`, `arraySync`, `bufferSync` (the engine's `readSync`). */
  sync: number;
  /** Asynchronous reads: `data`, `array`, `buffer` (the engine's `read`). */
  async: number;
  /** `sync + async`. */
  total: number;
}

type EngineReads = { readSync: (dataId: object) => unknown; read: (dataId: object) => Promise<unknown> };

/**
 * Runs `fn` and counts the reads of tensor data back to the host that went through the tfjs engine
 * (`tf.engine().readSync` / `read`, which every user-land `dataSync`, `arraySync` and `data` call
 * takes). A GPU backend must wait for the device at each one. A backend's own kernels read their
 * inputs through the backend, not the engine (the cpu backend's `gather`, `tile`), so those are not
 * counted: on a GPU backend they are no sync. `fn` runs synchronously: an asynchronous read counts
 * when it is started inside `fn`. The engine is restored even when `fn` throws.
 *
 * @example
 * ```ts
 * const { result, reads } = countHostReads(() => optimizer.minimize(loss, false, variables));
 * console.log(`${reads.total} host reads per step`);
 * ```
 */
export function countHostReads<T>(fn: () => T): { result: T; reads: HostReads } {
  const engine = tf.engine() as unknown as EngineReads;
  // own properties shadowing the Engine prototype's methods; deleting them restores the originals
  const hadOwn = { readSync: Object.hasOwn(engine, 'readSync'), read: Object.hasOwn(engine, 'read') };
  const { readSync, read } = engine;
  const reads: HostReads = { sync: 0, async: 0, total: 0 };
  engine.readSync = function (this: EngineReads, dataId: object) {
    reads.sync++;
    return readSync.call(this, dataId);
  };
  engine.read = function (this: EngineReads, dataId: object) {
    reads.async++;
    return read.call(this, dataId);
  };
  try {
    const result = fn();
    reads.total = reads.sync + reads.async;
    return { result, reads };
  } finally {
    if (hadOwn.readSync) engine.readSync = readSync;
    else delete (engine as Partial<EngineReads>).readSync;
    if (hadOwn.read) engine.read = read;
    else delete (engine as Partial<EngineReads>).read;
  }
}
