import '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { clampIndex } from './clamp-index.js';

describe('clampIndex', () => {
  it('clamps int32 indices to [0, size − 1] on cpu and on wasm (whose ClipByValue leaves int32 unclamped)', async () => {
    const clamp = () => tf.tidy(() => {
      const x = tf.tensor1d([-1, 0, 2, 5, 7], 'int32');
      const out = clampIndex(x, 5);
      return { values: Array.from(out.dataSync()), dtype: out.dtype, clip: Array.from(tf.clipByValue(x, 0, 4).dataSync()) };
    });
    expect(clamp()).toEqual({ values: [0, 0, 2, 4, 4], dtype: 'int32', clip: [0, 0, 2, 4, 4] });
    await tf.setBackend('wasm'); // the stock wasm kernels: core needs none of moekit's
    try {
      const wasm = clamp();
      expect(wasm.values).toEqual([0, 0, 2, 4, 4]);
      expect(wasm.clip).toEqual([0, 0, 2, 5, 7]); // the stock kernel's wrong answer this helper avoids
    } finally {
      await tf.setBackend('cpu');
    }
  });
});
