// The threaded path: this file's process initialises the wasm backend once, with 2 threads. The
// fallbacks live in wasm-threads-fallback.test.ts and wasm-threads-unsupported.test.ts (a backend
// initialises once per process), the exit check in wasm-threads-exit.test.ts.
import * as tf from '@tensorflow/tfjs';
import { getThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import { describe, expect, it } from 'vitest';
import { MoEArgumentError } from '@moekit/core';
import { autoWasmThreads, initWasmBackend } from './wasm-threads.js';

describe('autoWasmThreads', () => {
  it('asks for half the logical cores, at least 2, at most 8, never more than there are', () => {
    // cores:    1  2  3  4  6  8  16  64
    // half:     0  1  1  2  3  4   8  32  → clamp to [2, 8] → min with cores
    expect([1, 2, 3, 4, 6, 8, 16, 64].map(autoWasmThreads)).toEqual([1, 2, 2, 2, 3, 4, 8, 8]);
  });
});

describe('initWasmBackend', () => {
  it('rejects a thread count outside [1, 8] before touching the backend', async () => {
    await expect(initWasmBackend({ threads: 0 })).rejects.toThrow(
      "initWasmBackend: argument 'threads' expected 'auto' or an integer in [1, 8], got 0",
    );
    await expect(initWasmBackend({ threads: 2.5 })).rejects.toBeInstanceOf(MoEArgumentError);
    await expect(initWasmBackend({ threads: 9 })).rejects.toThrow('got 9');
    expect(tf.getBackend()).toBe('cpu');
  });

  it('runs 2 threads (SIMD) in Node, and matMul agrees with the cpu backend', async () => {
    // a: [64, 96], b: [96, 80], seeded; the product is computed on cpu first (vitest.setup.ts set it).
    const a = tf.randomUniform([64, 96], -1, 1, 'float32', 1);
    const b = tf.randomUniform([96, 80], -1, 1, 'float32', 2);
    const expected = tf.matMul(a, b).dataSync();

    const info = await initWasmBackend({ threads: 2 });
    expect(info).toEqual({ threads: 2, simd: true, note: '2 threads (SIMD)' });
    expect(tf.getBackend()).toBe('wasm');
    expect(getThreadsCount()).toBe(2); // the C++ pool, as the wasm package reports it

    const actual = tf.matMul(a, b).dataSync(); // a and b move to wasm
    let maxDiff = 0;
    for (let i = 0; i < expected.length; i++) maxDiff = Math.max(maxDiff, Math.abs(actual[i]! - expected[i]!));
    expect(actual.length).toBe(64 * 80);
    expect(maxDiff).toBeLessThan(1e-4); // float32 sums of 96 products of |x| <= 1
    tf.dispose([a, b]);
  });

  it('reports the first initialisation again when asked a second time', async () => {
    await tf.setBackend('cpu');
    const again = await initWasmBackend({ threads: 1 });
    expect(again.note).toBe('2 threads (SIMD)');
    expect(tf.getBackend()).toBe('wasm');
  });
});
