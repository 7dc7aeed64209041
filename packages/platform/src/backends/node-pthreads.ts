// What it takes to run tfjs-backend-wasm's threaded-SIMD build under Node's worker_threads (tfjs 4.22).
// Internal: used by wasm-threads.ts, not exported from the package index.
//
// The backend (dist/backend_wasm.js `init()`) hands emscripten its pthread worker script and its own
// main script as `blob:` URLs / a Blob. Node's `Worker` cannot load a `blob:` URL, and the Blob holds
// the factory as stringified by the Node bundle, which refers to bundler-renamed identifiers
// (`require$$0`…, `commonjsGlobal`, `__values`) that do not exist in a worker. So, for the length of
// one backend initialisation:
//  - `globalThis.Worker` (which emscripten sets to worker_threads' `Worker` and then calls) answers
//    with {@link PthreadWorker}: for a `blob:` URL it starts an `eval` worker from the package's own
//    worker source (`wasm-out/tfjs-backend-wasm-threaded-simd.worker.js`), and it rewrites the
//    worker's `load` message to point at the package's unbundled emscripten script
//    (`wasm-out/tfjs-backend-wasm-threaded-simd.js`) — the same emscripten build as the copy inside the
//    Node bundle (same wasm import table), but with plain `require`s, so nothing renamed is needed;
//  - `os.cpus()` reports at least `2 × threads` cores: the C++ side reads the logical core count
//    once, at start-up, and caps the thread pool at half of it (`init_with_threads_count`);
//  - errors from the pthread workers fail the initialisation instead of being rethrown by emscripten
//    as uncaught exceptions (which would kill the process).
// The workers run with no inherited execArgv (a parent's `--input-type=module` would turn the
// CommonJS worker source into a module). Afterwards the workers are `unref()`ed (emscripten `ref()`s
// each running pthread, which would keep the process alive forever), `os.cpus` is restored, and
// `globalThis.Worker` stays ours, as emscripten leaves its own there, for a pool that grows later.
import type { TransferListItem, WorkerOptions } from 'node:worker_threads';
import { dynamicImport, errorLine } from './optional-import.js';

const WASM_PACKAGE = '@tensorflow/tfjs-backend-wasm';
const WORKER_SOURCE_MODULE = `${WASM_PACKAGE}/wasm-out/tfjs-backend-wasm-threaded-simd.worker.js`;
const MAIN_SCRIPT_MODULE = `${WASM_PACKAGE}/wasm-out/tfjs-backend-wasm-threaded-simd.js`;

// A WebAssembly module using shared memory and an atomic op (from GoogleChromeLabs/wasm-feature-detect,
// the same bytes tfjs's WASM_HAS_MULTITHREAD_SUPPORT flag validates).
const WASM_THREADS_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 4, 1, 96, 0, 0, 3, 2, 1, 0, 5, 4, 1, 3, 1, 1, 10, 11, 1, 9, 0, 65, 0, 254, 16, 2, 0,
  26, 11,
]);

/** The files a threaded initialisation needs, found next to the installed wasm package. */
interface PthreadScripts {
  /** Source of the emscripten pthread worker, runnable as an `eval` worker. */
  workerSource: string;
  /** Absolute path of the unbundled emscripten script each worker loads. */
  mainScriptPath: string;
}

/** One threaded initialisation in progress; settle it with `release` or `abort`. */
export interface NodePthreads {
  /** Rejects when a pthread worker fails while the wasm module initialises. */
  readonly failure: Promise<never>;
  /** The pthread workers started so far. */
  readonly workers: readonly { threadId: number }[];
  /** After a successful initialisation: restore `os.cpus`, let the process exit with workers alive. */
  release(): void;
  /** After a failed one: restore `os.cpus` and `globalThis.Worker`, terminate the workers. */
  abort(): void;
}

/** Options of {@link installNodePthreads}. */
export interface InstallNodePthreadsOptions {
  /** Threads the pool will be asked for (`os.cpus()` is padded to twice this). */
  threads: number;
  /** Replaces the package's worker source (tests inject a failing worker with it). */
  workerSource?: string;
}

async function loadScripts(): Promise<PthreadScripts> {
  const { createRequire } = await dynamicImport<typeof import('node:module')>('node:module');
  const require = createRequire(import.meta.url);
  const contents = (require(WORKER_SOURCE_MODULE) as { wasmWorkerContents?: unknown }).wasmWorkerContents;
  if (typeof contents !== 'string') throw new Error(`${WORKER_SOURCE_MODULE} exports no wasmWorkerContents`);
  // As backend_wasm.js does before making its Blob: the template literal turned the source's `"\n"`
  // escapes into real newlines, which would end those string literals.
  return { workerSource: contents.replace(/\n/g, '\\n'), mainScriptPath: require.resolve(MAIN_SCRIPT_MODULE) };
}

/**
 * Why the threaded wasm build cannot run in this Node process, or `null` when it can: shared memory,
 * wasm atomics, `worker_threads`, a replaceable `globalThis.Worker` and the package's pthread scripts.
 */
export async function nodeThreadsUnavailableReason(): Promise<string | null> {
  if (typeof SharedArrayBuffer === 'undefined') return 'SharedArrayBuffer is missing';
  if (!WebAssembly.validate(WASM_THREADS_PROBE)) return 'this WebAssembly engine has no threads (atomics)';
  try {
    await dynamicImport('node:worker_threads');
  } catch {
    return 'node:worker_threads is unavailable';
  }
  const current = Object.getOwnPropertyDescriptor(globalThis, 'Worker');
  if (current !== undefined && !current.configurable) return 'globalThis.Worker cannot be replaced';
  try {
    await loadScripts();
  } catch (error) {
    return `the wasm package's pthread scripts cannot be loaded (${errorLine(error)})`;
  }
  return null;
}

function isLoadMessage(value: unknown): value is { cmd: 'load'; urlOrBlob: unknown } {
  return typeof value === 'object' && value !== null && (value as { cmd?: unknown }).cmd === 'load' && 'urlOrBlob' in value;
}

/**
 * Prepares this process for one initialisation of the threaded wasm build; call before
 * `tf.setBackend('wasm')` with `WASM_HAS_MULTITHREAD_SUPPORT` set, settle after it.
 */
export async function installNodePthreads(options: InstallNodePthreadsOptions): Promise<NodePthreads> {
  const scripts = await loadScripts();
  const workerSource = options.workerSource ?? scripts.workerSource;
  const { Worker: NodeWorker } = await dynamicImport<typeof import('node:worker_threads')>('node:worker_threads');
  const os = (await dynamicImport<{ default: { cpus(): import('node:os').CpuInfo[] } }>('node:os')).default;

  // 'released': initialised, workers unref()ed; 'aborted': failed, workers terminated.
  let state: 'initialising' | 'released' | 'aborted' = 'initialising';
  let reportError: (error: unknown) => void = () => {};
  const failure = new Promise<never>((_, reject) => {
    reportError = (error) => reject(new Error(`pthread worker error: ${errorLine(error)}`));
  });
  failure.catch(() => {}); // observed through `failure`; never an unhandled rejection
  const workers: InstanceType<typeof NodeWorker>[] = [];
  // The workers started for emscripten (not a private field: Worker's constructor already emits).
  const pthreads = new WeakSet<object>();

  /** worker_threads' `Worker`, able to start emscripten's pthreads from the backend's `blob:` URL. */
  class PthreadWorker extends NodeWorker {
    constructor(filename: string | URL, workerOptions?: WorkerOptions) {
      const pthread = typeof filename === 'string' && filename.startsWith('blob:');
      // No inherited execArgv: a parent's `--input-type=module` would make the (CommonJS) worker
      // source a module, and its `--import` loaders have no business in a pthread.
      super(pthread ? workerSource : filename, pthread ? { execArgv: [], ...workerOptions, eval: true } : workerOptions);
      if (pthread) {
        pthreads.add(this);
        workers.push(this);
      }
    }

    override postMessage(value: unknown, transferList?: readonly TransferListItem[]): void {
      // emscripten sends its main script as the backend's Blob; the worker needs a file it can read.
      const message = pthreads.has(this) && isLoadMessage(value) && typeof value.urlOrBlob !== 'string'
        ? { ...value, urlOrBlob: scripts.mainScriptPath }
        : value;
      super.postMessage(message, transferList);
    }

    override ref(): void {
      // Running pthreads are `ref()`ed by emscripten; once released they must not hold the process.
      if (!(pthreads.has(this) && state !== 'initialising')) super.ref();
    }

    override emit(event: string | symbol, ...args: unknown[]): boolean {
      // Until released, a worker's error fails the initialisation; emscripten would rethrow it as an
      // uncaught exception. Errors of workers being torn down after a failure are dropped.
      if (pthreads.has(this) && state !== 'released' && event === 'error') {
        reportError(args[0]);
        return true;
      }
      return super.emit(event, ...args);
    }
  }

  const previousWorker = Object.getOwnPropertyDescriptor(globalThis, 'Worker');
  // emscripten assigns `globalThis.Worker = worker_threads.Worker` just before it starts its pool:
  // an accessor keeps ours in place through that assignment.
  Object.defineProperty(globalThis, 'Worker', { configurable: true, enumerable: true, get: () => PthreadWorker, set: () => {} });

  const realCpus = os.cpus;
  const paddedCpus = (): import('node:os').CpuInfo[] => {
    const cpus = realCpus.call(os);
    // Some containers list no cpus at all; pad with a blank entry then.
    const last = cpus[cpus.length - 1] ?? { model: 'unknown', speed: 0, times: { user: 0, nice: 0, sys: 0, idle: 0, irq: 0 } };
    while (cpus.length < 2 * options.threads) cpus.push(last);
    return cpus;
  };
  os.cpus = paddedCpus;
  const restoreCpus = (): void => {
    if (os.cpus === paddedCpus) os.cpus = realCpus;
  };

  return {
    failure,
    workers,
    release() {
      state = 'released';
      restoreCpus();
      for (const worker of workers) worker.unref();
      // Keep ours as a plain global, as emscripten leaves its own: a pool that grows later needs it.
      Object.defineProperty(globalThis, 'Worker', { configurable: true, enumerable: true, writable: true, value: PthreadWorker });
    },
    abort() {
      state = 'aborted';
      restoreCpus();
      for (const worker of workers) void worker.terminate();
      if (previousWorker) Object.defineProperty(globalThis, 'Worker', previousWorker);
      else Reflect.deleteProperty(globalThis, 'Worker');
    },
  };
}
