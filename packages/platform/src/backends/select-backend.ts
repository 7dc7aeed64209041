import * as tf from '@tensorflow/tfjs-core';
import { MoEArgumentError } from '@moekit/core';
import { describeValue as describe } from '@moekit/core';
import { importOptional, isNode } from './optional-import.js';
import { registerMoekitKernels } from '../kernels/register-moekit-kernels.js';
import { keepTopKOnDevice } from './keep-top-k-on-device.js';
import { guardWasmHeap } from './wasm-heap-guard.js';
import { WASM_PACKAGE, checkWasmThreads, resolveWasmThreads, startWasmBackend, type WasmPackage } from './wasm-threads.js';

/** A tfjs backend {@link selectBackend} can choose: `tensorflow` is tfjs-node (Node only), `webgpu` and `webgl` need a browser. */
export type BackendName = 'tensorflow' | 'webgpu' | 'webgl' | 'wasm' | 'cpu';

/** Every {@link BackendName}, in no particular order. */
export const backendNames: readonly BackendName[] = ['tensorflow', 'webgpu', 'webgl', 'wasm', 'cpu'];

/** The environment variable that forces a backend, e.g. `MOEKIT_BACKEND=cpu`. */
export const BACKEND_ENV_VAR = 'MOEKIT_BACKEND';

/** Options of {@link selectBackend}. */
export interface SelectBackendOptions {
  /**
   * The backends to try, in order; default `['tensorflow', 'wasm', 'cpu']` in Node and
   * `['webgpu', 'webgl', 'wasm', 'cpu']` in a browser. Ignored when `MOEKIT_BACKEND` is set.
   */
  prefer?: BackendName[];
  /** Threads for the wasm backend, as in {@link WasmBackendOptions.threads}; default `'auto'`. */
  threads?: number | 'auto';
}

/** One backend {@link selectBackend} considered, and what came of it. */
export interface BackendAttempt {
  /** The backend, e.g. `'tensorflow'`. */
  backend: string;
  /** What happened, e.g. `'tfjs-node not installed'`, `'needs a browser'` or `'chosen'`. */
  outcome: string;
}

/** The backend {@link selectBackend} made active, and why. */
export interface BackendChoice {
  /** The active backend, equal to `tf.getBackend()`. */
  backend: string;
  /** One line for logs, e.g. `'tfjs-node-gpu not installed; tfjs-node not installed; wasm with 2 threads (SIMD)'`. */
  reason: string;
  /** Every backend considered, in order, the chosen one last. */
  tried: BackendAttempt[];
  /** Threads the wasm backend runs (wasm only). */
  threads?: number;
  /** Whether the wasm backend runs its SIMD build (wasm only). */
  simd?: boolean;
  /** The moekit kernels registered for the MoE path (see {@link registerMoekitKernels}), as `'Name/backend'`. */
  kernels: string[];
}

// The packages that provide each backend, tried in order: tfjs-node-gpu and tfjs-node both register 'tensorflow'.
const PACKAGES: Record<BackendName, readonly string[]> = {
  tensorflow: ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'],
  webgpu: ['@tensorflow/tfjs-backend-webgpu'],
  webgl: ['@tensorflow/tfjs-backend-webgl'],
  wasm: [WASM_PACKAGE],
  cpu: ['@tensorflow/tfjs-backend-cpu'],
};
const NODE_ORDER: readonly BackendName[] = ['tensorflow', 'wasm', 'cpu'];
const BROWSER_ORDER: readonly BackendName[] = ['webgpu', 'webgl', 'wasm', 'cpu'];
const ALLOWED = `one of ${backendNames.map((b) => `'${b}'`).join(' | ')}`;

/** `@tensorflow/tfjs-node` → `tfjs-node`, for short log lines. */
function short(pkg: string): string {
  return pkg.replace(/^@tensorflow\//, '');
}

/** Makes `name` the active backend; null on success, else why not. */
async function activate(name: BackendName): Promise<string | null> {
  let ok: boolean;
  try {
    ok = await tf.setBackend(name);
  } catch (error) {
    return `failed to initialise: ${error instanceof Error ? error.message : String(error)}`;
  }
  if (!ok) return 'failed to initialise';
  await tf.ready();
  return tf.getBackend() === name ? null : `tf.getBackend() is '${tf.getBackend()}' after setBackend('${name}')`;
}

/** The attempts so far: `tried` for the caller, `parts` for the one-line reason. */
interface Journal {
  tried: BackendAttempt[];
  parts: string[];
}

/** Records an attempt; `part` is its reason fragment, which names a package or the backend. */
function note(journal: Journal, backend: BackendName, outcome: string, part: string): void {
  journal.tried.push({ backend, outcome });
  journal.parts.push(part);
}

/** Tries one backend, recording it in `journal`; returns the choice, or null when it cannot run here. */
async function tryBackend(name: BackendName, threads: number, journal: Journal): Promise<Omit<BackendChoice, 'kernels'> | null> {
  const failed = (outcome: string): null => {
    note(journal, name, outcome, `${name} ${outcome}`);
    return null;
  };
  const chosen = (detail: string, extra: Pick<BackendChoice, 'threads' | 'simd'> = {}): Omit<BackendChoice, 'kernels'> => {
    note(journal, name, detail === name ? 'chosen' : `chosen: ${detail}`, detail);
    return { backend: name, reason: journal.parts.join('; '), tried: journal.tried, ...extra };
  };
  if (name === 'tensorflow' && !isNode()) return failed('needs Node');
  if ((name === 'webgl' || name === 'webgpu') && isNode()) return failed('needs a browser');

  // a browser bundle that imported tfjs-backend-wasm registered its factory: a dynamic import of the
  // package by name would fail there (no bare specifiers at run time), so start the registered one
  const registeredWasm = name === 'wasm' && tf.findBackendFactory('wasm') != null;
  if (registeredWasm && !isNode()) return startRegisteredWasm(chosen, failed);

  let wasmPackage: WasmPackage | undefined;
  let provider: string | undefined;
  if (tf.engine().registryFactory[name] === undefined || name === 'wasm') {
    for (const pkg of PACKAGES[name]) {
      const imported = await importOptional<WasmPackage>(pkg);
      if (imported.status === 'loaded') {
        if (name === 'wasm') wasmPackage = imported.module;
        provider = short(pkg);
        break;
      }
      const outcome = imported.status === 'missing' ? `${short(pkg)} not installed` : `${short(pkg)} failed to load: ${imported.error}`;
      note(journal, name, outcome, outcome);
    }
    if (provider === undefined) return registeredWasm ? startRegisteredWasm(chosen, failed) : null;
  }

  if (name === 'wasm' && wasmPackage) {
    try {
      const info = await startWasmBackend(wasmPackage, { where: 'selectBackend', threads });
      return chosen(`wasm with ${info.note}`, { threads: info.threads, simd: info.simd });
    } catch (error) {
      return failed(`failed to initialise: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  const problem = await activate(name);
  if (problem !== null) return failed(provider && name === 'tensorflow' ? `(${provider}) ${problem}` : problem);
  return chosen(name === 'tensorflow' && provider ? `tensorflow (${provider})` : name);
}

/**
 * Starts the wasm backend whose factory the bundle registered (`import '@tensorflow/tfjs-backend-wasm'`),
 * without the package's module: its threads and wasm paths are as the bundle set them. The heap guard
 * is installed as for a package started here.
 */
async function startRegisteredWasm(
  chosen: (detail: string, extra?: Pick<BackendChoice, 'threads' | 'simd'>) => Omit<BackendChoice, 'kernels'>,
  failed: (outcome: string) => null,
): Promise<Omit<BackendChoice, 'kernels'> | null> {
  const problem = await activate('wasm');
  if (problem !== null) return failed(`(registered by the bundle) ${problem}`);
  guardWasmHeap(tf.backend());
  const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT').then((v) => v === true, () => false); // the flag is the package's
  return chosen(`wasm (registered by the bundle${simd ? ', SIMD' : ''})`, { simd });
}

/** `MOEKIT_BACKEND`, trimmed and lower-cased; undefined when unset or empty. */
function forcedBackend(): { raw: string; name: string } | undefined {
  const raw = typeof process !== 'undefined' ? process.env?.[BACKEND_ENV_VAR] : undefined;
  if (raw === undefined || raw.trim() === '') return undefined;
  return { raw, name: raw.trim().toLowerCase() };
}

function isBackendName(value: unknown): value is BackendName {
  return typeof value === 'string' && (backendNames as readonly string[]).includes(value);
}

/**
 * Picks the fastest tfjs backend that runs here, makes it active (`tf.setBackend` + `tf.ready`,
 * checked with `tf.getBackend`) and says what it chose and why. In Node: `tensorflow` (tfjs-node-gpu,
 * then tfjs-node, optional peers), else `wasm` (multithreaded where possible, see
 * {@link initWasmBackend}), else `cpu`. In a browser: `webgpu`, `webgl`, `wasm`, `cpu`; import the
 * backend packages your bundle should carry: a backend the bundle registered is used as it is
 * (`wasm` is found with `tf.findBackendFactory`, never re-imported by name).
 * `MOEKIT_BACKEND=<name>` in the environment forces one backend (an unknown name, or one that fails
 * to initialise, is an error naming the variable); `options.prefer` replaces the order.
 *
 * @example
 * ```ts
 * import { selectBackend } from '@moekit/platform';
 *
 * const choice = await selectBackend();
 * console.log(`backend ${choice.backend}: ${choice.reason}`);
 * // backend wasm: tfjs-node-gpu not installed; tfjs-node not installed; wasm with 2 threads (SIMD)
 * ```
 */
export async function selectBackend(options: SelectBackendOptions = {}): Promise<BackendChoice> {
  const { prefer, threads } = options;
  checkWasmThreads('selectBackend', threads);
  if (prefer !== undefined) {
    const bad = Array.isArray(prefer) ? prefer.find((b) => !isBackendName(b)) : prefer;
    if (!Array.isArray(prefer) || prefer.length === 0 || bad !== undefined) {
      throw new MoEArgumentError('selectBackend', 'prefer', `a non-empty array of ${ALLOWED}`, describe(bad ?? prefer));
    }
  }
  const forced = forcedBackend();
  if (forced !== undefined && !isBackendName(forced.name)) {
    throw new MoEArgumentError('selectBackend', BACKEND_ENV_VAR, ALLOWED, describe(forced.raw));
  }
  const order = forced ? [forced.name as BackendName] : (prefer ?? (isNode() ? NODE_ORDER : BROWSER_ORDER));
  const wasmThreads = await resolveWasmThreads(threads);
  const journal: Journal = { tried: [], parts: [] };
  for (const name of order) {
    const choice = await tryBackend(name, wasmThreads, journal);
    if (choice) {
      const kernels = registerMoekitKernels();
      if (choice.backend === 'webgl') keepTopKOnDevice(); // routing decisions must not read back to the host
      return { ...choice, kernels, ...(forced ? { reason: `${BACKEND_ENV_VAR}=${forced.name}: ${choice.reason}` } : {}) };
    }
  }
  const outcomes = journal.parts.join('; ');
  if (forced) {
    throw new MoEArgumentError('selectBackend', BACKEND_ENV_VAR, 'a backend that initialises here', `${describe(forced.raw)} (${outcomes})`);
  }
  if (prefer) throw new MoEArgumentError('selectBackend', 'prefer', 'a backend that initialises here', `${describe(prefer)} (${outcomes})`);
  throw new Error(`selectBackend: no backend could be initialised (${outcomes})`);
}
