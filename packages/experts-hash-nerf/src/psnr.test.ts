import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { psnr } from './psnr.js';

describe('psnr', () => {
  it('is 10 · log10(1 / MSE)', () => {
    const a = tf.fill([4, 3], 0.5);
    const b = tf.fill([4, 3], 0.6);
    expect(psnr(a, b)).toBeCloseTo(20, 4); // MSE 0.01 → 20 dB
    expect(psnr(a, b, 255)).toBeCloseTo(20 + 20 * Math.log10(255), 3); // same error on a 0..255 scale
    expect(() => psnr(a, tf.zeros([3]))).toThrow("psnr: argument 'prediction' expected shape [3], got shape [4, 3]");
    tf.dispose([a, b]);
  });
});
