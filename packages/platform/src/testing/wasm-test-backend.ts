import * as tf from '@tensorflow/tfjs-core';
import { registerMoekitKernels, unregisterMoekitKernels } from '../kernels/register-moekit-kernels.js';

/**
 * Switches a test file to the wasm backend with moekit's kernels (import `@tensorflow/tfjs-backend-wasm`
 * first, so the backend is registered). Pair it with {@link leaveWasmTestBackend}.
 *
 * @example
 * ```ts
 * import '@tensorflow/tfjs-backend-wasm';
 * beforeAll(useWasmTestBackend);
 * afterAll(leaveWasmTestBackend);
 * ```
 */
export async function useWasmTestBackend(): Promise<void> {
  await tf.setBackend('wasm');
  registerMoekitKernels();
}

/** Puts the stock kernels back and returns to the cpu backend the test suites run on. */
export async function leaveWasmTestBackend(): Promise<void> {
  unregisterMoekitKernels();
  await tf.setBackend('cpu');
}
