import * as tf from '@tensorflow/tfjs-core';

/** What {@link countHostReads} saw. */
export interface HostReadCount<R> {
  /** Synchronous reads (`dataSync`, `arraySync`, `bufferSync`: the engine's `readSync`). */
  sync: number;
  /** Asynchronous reads (`data`, `array`, `buffer`: the engine's `read`), counted when started inside `fn`. */
  async: number;
  /**
   * Reads the backend made for its own kernels (`backend.readSync`): no host read on cpu or wasm,
   * where the data already is on the host, but a real one on webgl (a kernel handing off to the cpu,
   * like `TopK` below its size thresholds: see `keepTopKOnDevice`).
   */
  backendSync: number;
  /** What `fn` returned. */
  result: R;
}

type EngineReads = { readSync: (dataId: object) => unknown; read: (dataId: object) => Promise<unknown> };

/**
 * Runs `fn` and counts the device-to-host reads it makes through the tfjs engine — what `dataSync`,
 * `arraySync` and `data` go through, and what stalls a GPU backend. A backend kernel reading its own
 * inputs (the cpu backend's `gather`, `scatterND`) goes through the backend, not the engine, and is
 * not counted: on a GPU backend it is no host read. The engine is restored even when `fn` throws.
 *
 * @example
 * ```ts
 * import { countHostReads } from '@moekit/core/testing';
 *
 * const { sync } = countHostReads(() => optimizer.minimize(loss)); // 0 for a padded MoE step
 * ```
 */
export function countHostReads<R>(fn: () => R): HostReadCount<R> {
  const engine = tf.engine() as unknown as EngineReads;
  // own properties shadow the Engine prototype's methods; deleting them restores the originals
  const hadOwn = { readSync: Object.hasOwn(engine, 'readSync'), read: Object.hasOwn(engine, 'read') };
  const { readSync, read } = engine;
  const backend = tf.backend() as unknown as { readSync: (dataId: object) => unknown };
  const backendHadOwn = Object.hasOwn(backend, 'readSync');
  const backendReadSync = backend.readSync;
  let sync = 0;
  let async = 0;
  let backendSync = 0;
  backend.readSync = function (this: unknown, dataId: object) {
    backendSync++;
    return backendReadSync.call(this, dataId);
  };
  engine.readSync = function (this: EngineReads, dataId: object) {
    sync++;
    return readSync.call(this, dataId);
  };
  engine.read = function (this: EngineReads, dataId: object) {
    async++;
    return read.call(this, dataId);
  };
  try {
    const result = fn();
    return { sync, async, backendSync: backendSync - sync, result };
  } finally {
    if (backendHadOwn) backend.readSync = backendReadSync;
    else delete (backend as Partial<typeof backend>).readSync;
    if (hadOwn.readSync) engine.readSync = readSync;
    else delete (engine as Partial<EngineReads>).readSync;
    if (hadOwn.read) engine.read = read;
    else delete (engine as Partial<EngineReads>).read;
  }
}
