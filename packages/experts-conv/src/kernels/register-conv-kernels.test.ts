import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { registerConvKernels } from './register-conv-kernels.js';

describe('registerConvKernels', () => {
  it('adds the three conv training kernels wasm lacks, once, replacing nothing', () => {
    const names = ['Conv2DBackpropFilter', 'DepthwiseConv2dNativeBackpropFilter', 'DepthwiseConv2dNativeBackpropInput'];
    expect(names.map((n) => tf.getKernel(n, 'wasm'))).toEqual([undefined, undefined, undefined]); // not imported yet in this file
    expect(registerConvKernels()).toEqual(names.map((n) => `${n}/wasm`));
    expect(names.every((n) => tf.getKernel(n, 'wasm') !== undefined)).toBe(true);
    expect(registerConvKernels()).toEqual([]); // idempotent
    expect(tf.getKernel('Conv2DBackpropFilter', 'cpu')?.backendName).toBe('cpu'); // the cpu kernel is tfjs's own, untouched
  });
});
