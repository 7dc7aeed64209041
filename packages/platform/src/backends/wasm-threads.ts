import * as tf from '@tensorflow/tfjs-core';
import { guardWasmHeap } from './wasm-heap-guard.js';
import { MoEArgumentError } from '@moekit/core';
import { describeValue as describe } from '@moekit/core';
import { installNodePthreads, nodeThreadsUnavailableReason, type NodePthreads } from './node-pthreads.js';
import { dynamicImport, errorLine, importOptional, isNode } from './optional-import.js';

/** The wasm backend's package, an optional peer dependency of `@moekit/core`. */
export const WASM_PACKAGE = '@tensorflow/tfjs-backend-wasm';

/** The most threads the wasm backend runs: it starts a pool of 8 pthread workers and caps at 8. */
export const MAX_WASM_THREADS = 8;

/** How long a threaded initialisation may take before it counts as failed (normally 0.2–0.6 s). */
const THREADED_INIT_TIMEOUT_MS = 20_000;

/** The members of `@tensorflow/tfjs-backend-wasm` used here (typed locally: the peer is optional). @internal */
export interface WasmPackage {
  /** Threads for XNNPACK's pool; read when the backend initialises. */
  setThreadsCount(threads: number): void;
  /** Threads the initialised backend actually runs. */
  getThreadsCount(): number;
}

/** Options of {@link initWasmBackend}. */
export interface WasmBackendOptions {
  /**
   * Threads for the wasm backend's matrix kernels (XNNPACK), an integer in [1, 8] or `'auto'`
   * (default): half the logical cores, at least 2 and at most 8, but never more than there are cores
   * (see {@link autoWasmThreads}). More than one thread needs SIMD, `SharedArrayBuffer` and wasm
   * atomics; where they are missing, or the threaded build fails to start, one thread is used and the
   * returned note says why.
   */
  threads?: number | 'auto';
}

/** What {@link initWasmBackend} set up. */
export interface WasmBackendInfo {
  /** Threads the backend runs, as it reports them (`getThreadsCount()`), not as asked. */
  threads: number;
  /** Whether the SIMD build runs (the threaded build is always SIMD). */
  simd: boolean;
  /** One line for logs: `'2 threads (SIMD)'`, or `'1 thread (SIMD); threads unavailable: …'`. */
  note: string;
}

/** Internal options of {@link startWasmBackend}. @internal */
export interface StartWasmBackendOptions {
  /** The name of the calling public function, for error messages. */
  where: string;
  /** Threads asked for, already resolved and validated. */
  threads: number;
  /** Replaces the Node pthread worker source: tests inject a failing worker with it. */
  pthreadWorkerSource?: string;
}

/**
 * The thread count `threads: 'auto'` asks for on a machine with `logicalCores` logical cores: half
 * of them (hyperthread pairs share a core's SIMD units), at least 2, at most {@link MAX_WASM_THREADS},
 * never more than `logicalCores`. 2 cores → 2 threads (measured 1.8–2× one thread on matMul), 16 → 8.
 */
export function autoWasmThreads(logicalCores: number): number {
  const cores = Math.max(1, Math.floor(logicalCores));
  return Math.min(cores, MAX_WASM_THREADS, Math.max(2, Math.floor(cores / 2)));
}

/** Checks a `threads` option; `where` names the public function that took it. @internal */
export function checkWasmThreads(where: string, threads: unknown): asserts threads is number | 'auto' | undefined {
  if (threads === undefined || threads === 'auto') return;
  if (typeof threads !== 'number' || !Number.isInteger(threads) || threads < 1 || threads > MAX_WASM_THREADS) {
    throw new MoEArgumentError(where, 'threads', `'auto' or an integer in [1, ${MAX_WASM_THREADS}]`, describe(threads));
  }
}

/** Logical cores of this machine: `os.availableParallelism()` in Node, `hardwareConcurrency` in a browser. */
async function logicalCores(): Promise<number> {
  if (isNode()) {
    const os = await dynamicImport<typeof import('node:os')>('node:os');
    return typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  }
  return typeof navigator !== 'undefined' && navigator.hardwareConcurrency > 0 ? navigator.hardwareConcurrency : 1;
}

/** Resolves a validated `threads` option to a count. @internal */
export async function resolveWasmThreads(threads: number | 'auto' | undefined): Promise<number> {
  return threads === undefined || threads === 'auto' ? autoWasmThreads(await logicalCores()) : threads;
}

function describeThreads(threads: number, simd: boolean): string {
  return `${threads} thread${threads === 1 ? '' : 's'}${simd ? ' (SIMD)' : ''}`;
}

// What this module set up, reported again when the backend is asked for a second time.
let initialised: WasmBackendInfo | null = null;

/** Sets the active backend to wasm, already initialised; reports what runs. */
async function reuseInitialised(pkg: WasmPackage, where: string): Promise<WasmBackendInfo> {
  if (!(await tf.setBackend('wasm'))) throw new Error(`${where}: the initialised wasm backend could not be set`);
  if (initialised) return initialised;
  guardWasmHeap(tf.backend());
  const threads = pkg.getThreadsCount();
  const simd = threads > 1 || (await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')) === true;
  return { threads, simd, note: `${describeThreads(threads, simd)}; initialised before moekit saw it` };
}

/** Why more than one thread cannot be had here, or null when it can be tried. */
async function threadsUnavailableReason(): Promise<string | null> {
  if (!(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'))) return 'this WebAssembly engine has no SIMD';
  if (isNode()) return nodeThreadsUnavailableReason();
  if (await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT')) return null;
  return 'the page is not cross-origin isolated (no SharedArrayBuffer for wasm threads)';
}

/** Initialises the threaded build in Node; resolves to null on success, else why it failed. */
async function startNodeThreaded(pkg: WasmPackage, options: StartWasmBackendOptions): Promise<string | null> {
  let pthreads: NodePthreads;
  try {
    pthreads = await installNodePthreads({
      threads: options.threads,
      ...(options.pthreadWorkerSource === undefined ? {} : { workerSource: options.pthreadWorkerSource }),
    });
  } catch (error) {
    return errorLine(error);
  }
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', true);
  pkg.setThreadsCount(options.threads);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`the pthread workers did not start within ${THREADED_INIT_TIMEOUT_MS} ms`)),
      THREADED_INIT_TIMEOUT_MS,
    );
  });
  let failure: string | null = null;
  try {
    const ok = await Promise.race([tf.setBackend('wasm'), pthreads.failure, timeout]);
    if (!ok) failure = 'the threaded module did not initialise';
  } catch (error) {
    failure = errorLine(error);
  } finally {
    clearTimeout(timer);
  }
  if (failure === null) {
    pthreads.release();
    return null;
  }
  pthreads.abort();
  // The abandoned initialisation may stay pending forever, leaving the engine waiting on it: drop the
  // wasm entry (which makes that promise obsolete) and register the same factory again.
  const engine = tf.engine();
  const entry = engine.registryFactory['wasm'];
  if (entry) {
    engine.removeBackend('wasm');
    tf.registerBackend('wasm', entry.factory, entry.priority);
  }
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
  return failure;
}

/**
 * Initialises the wasm backend with `options.threads` (validated and resolved) and makes it active;
 * the engine behind {@link initWasmBackend} and `selectBackend`. Falls back to one thread when
 * threads are unavailable or fail; throws only when the backend cannot start at all. @internal
 */
export async function startWasmBackend(pkg: WasmPackage, options: StartWasmBackendOptions): Promise<WasmBackendInfo> {
  if (tf.engine().registry['wasm'] !== undefined) return reuseInitialised(pkg, options.where);
  let fallback = '';
  if (options.threads > 1) {
    const unavailable = await threadsUnavailableReason();
    if (unavailable !== null) {
      fallback = `; threads unavailable: ${unavailable}`;
    } else if (isNode()) {
      const failure = await startNodeThreaded(pkg, options);
      if (failure !== null) fallback = `; ${options.threads} threads failed: ${failure}`;
    } else {
      // In a browser the package starts its own workers (and caps threads at half the logical cores).
      pkg.setThreadsCount(options.threads);
      if (!(await tf.setBackend('wasm'))) fallback = `; ${options.threads} threads failed: the threaded module did not initialise`;
    }
  }
  if (tf.engine().registry['wasm'] === undefined) {
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
    pkg.setThreadsCount(1);
    if (!(await tf.setBackend('wasm'))) {
      throw new Error(`${options.where}: the wasm backend failed to initialise (tfjs logged the cause above)`);
    }
  }
  await tf.ready();
  if (tf.getBackend() !== 'wasm') {
    throw new Error(`${options.where}: tf.getBackend() is '${tf.getBackend()}' after setBackend('wasm')`);
  }
  guardWasmHeap(tf.backend());
  const threads = pkg.getThreadsCount();
  const simd = threads > 1 || (await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')) === true;
  if (fallback === '' && threads < options.threads) fallback = `; asked for ${options.threads}, the backend capped it`;
  initialised = { threads, simd, note: `${describeThreads(threads, simd)}${fallback}` };
  return initialised;
}

/**
 * Initialises tfjs's wasm backend, multithreaded where the platform allows, and makes it the active
 * backend. In Node this includes what tfjs 4.22 leaves out (its threaded build is browser-only
 * there): pthread workers Node can start (no `blob:` URLs), the cap at half the logical cores lifted,
 * and workers that do not keep the process alive. Threads that cannot be had fall back to one thread; the result says what runs and
 * why. The backend initialises once per process: later calls report the first result.
 *
 * @example
 * ```ts
 * import { initWasmBackend } from '@moekit/platform';
 *
 * const { threads, note } = await initWasmBackend({ threads: 'auto' });
 * console.log(`wasm: ${note}`); // 'wasm: 2 threads (SIMD)'
 * ```
 */
export async function initWasmBackend(options: WasmBackendOptions = {}): Promise<WasmBackendInfo> {
  checkWasmThreads('initWasmBackend', options.threads);
  const imported = await importOptional<WasmPackage>(WASM_PACKAGE);
  if (imported.status !== 'loaded') {
    const why = imported.status === 'missing' ? 'is not installed' : `failed to load: ${imported.error}`;
    throw new Error(`initWasmBackend: ${WASM_PACKAGE} ${why}`);
  }
  return startWasmBackend(imported.module, { where: 'initWasmBackend', threads: await resolveWasmThreads(options.threads) });
}
