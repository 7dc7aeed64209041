// The detected fallback: without SharedArrayBuffer the threaded build is not even tried. Its own
// file: a wasm backend initialises once per process.
import * as tf from '@tensorflow/tfjs';
import { getThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import { afterEach, expect, it, vi } from 'vitest';
import { initWasmBackend } from './wasm-threads.js';

afterEach(() => {
  vi.unstubAllGlobals();
});

it('runs 1 thread (SIMD) without SharedArrayBuffer, starts no pthread worker, and says why', async () => {
  vi.stubGlobal('SharedArrayBuffer', undefined);
  const info = await initWasmBackend({ threads: 2 });
  expect(info).toEqual({ threads: 1, simd: true, note: '1 thread (SIMD); threads unavailable: SharedArrayBuffer is missing' });
  expect(tf.getBackend()).toBe('wasm');
  expect(getThreadsCount()).toBe(1);
  expect(globalThis).not.toHaveProperty('Worker'); // the pthread hook was never installed
  // [2, 2] · [2, 1] = [[1·5 + 2·6], [3·5 + 4·6]]
  const product = tf.matMul(tf.tensor2d([[1, 2], [3, 4]]), tf.tensor2d([[5], [6]]));
  expect(product.arraySync()).toEqual([[17], [39]]);
});
