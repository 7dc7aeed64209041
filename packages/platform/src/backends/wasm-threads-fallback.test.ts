// The forced fallback: the threaded build starts, its pthread workers fail (an injected worker
// source that throws), and the backend comes up single-threaded in the same process. Its own file:
// a wasm backend initialises once per process.
import * as tf from '@tensorflow/tfjs';
import * as wasm from '@tensorflow/tfjs-backend-wasm';
import { expect, it } from 'vitest';
import { startWasmBackend } from './wasm-threads.js';

it('falls back to 1 thread (SIMD) when the pthread workers fail, and says why', async () => {
  // x: [3, 2], w: [2, 2]; x·w = [[1·1+2·3, 1·2+2·4], [3·1+4·3, 3·2+4·4], [5·1+6·3, 5·2+6·4]]
  const x = tf.tensor2d([[1, 2], [3, 4], [5, 6]]);
  const w = tf.tensor2d([[1, 2], [3, 4]]);

  const info = await startWasmBackend(wasm, {
    where: 'test',
    threads: 2,
    pthreadWorkerSource: 'throw new Error("injected pthread failure")',
  });
  expect(info).toEqual({
    threads: 1,
    simd: true,
    note: '1 thread (SIMD); 2 threads failed: pthread worker error: injected pthread failure',
  });
  expect(tf.getBackend()).toBe('wasm');
  expect(wasm.getThreadsCount()).toBe(1);
  expect(tf.env().getBool('WASM_HAS_MULTITHREAD_SUPPORT')).toBe(false);
  expect(globalThis).not.toHaveProperty('Worker'); // the pthread hook was taken down again
  expect(tf.matMul(x, w).arraySync()).toEqual([[7, 10], [15, 22], [23, 34]]);
  tf.dispose([x, w]);
});
