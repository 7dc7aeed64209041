import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { describe, expect, it } from 'vitest';
import { guardWasmHeap } from './wasm-heap-guard.js';

describe('guardWasmHeap', () => {
  it('turns an allocation past the 4 GiB wasm heap into a clear error, and the backend keeps working', async () => {
    await tf.setBackend('wasm');
    guardWasmHeap(tf.backend());
    expect(() => tf.zeros([1.25e9])).toThrow('wasm heap exhausted: cannot allocate 5000000000 bytes for a [1250000000] float32 tensor (larger than the 4 GiB wasm32 address space');
    const kept: tf.Tensor[] = [];
    let error: Error | undefined;
    try {
      for (let i = 0; i < 8; i++) kept.push(tf.fill([200e6], 1)); // 8 × 800 MB cannot fit
    } catch (e) {
      error = e as Error;
    }
    expect(error?.message).toMatch(/^wasm heap exhausted: cannot allocate 800000000 bytes for a \[200000000\] float32 tensor \(malloc returned no memory/);
    expect(kept.length).toBeLessThan(8);
    tf.dispose(kept);
    const small = tf.tensor1d([1, 2, 3]);
    expect(Array.from(tf.sum(small).dataSync())).toEqual([6]); // values uploaded through the guard, nothing corrupted
    small.dispose();
  }, 120_000);
});
