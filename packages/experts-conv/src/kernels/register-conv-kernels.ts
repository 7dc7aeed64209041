import { getKernel, registerKernel } from '@tensorflow/tfjs-core';
import { wasmConv2DBackpropFilterConfig } from './wasm-conv2d-backprop-filter.js';
import { wasmDepthwiseConv2dNativeBackpropFilterConfig } from './wasm-depthwise-conv2d-backprop-filter.js';
import { wasmDepthwiseConv2dNativeBackpropInputConfig } from './wasm-depthwise-conv2d-backprop-input.js';

/** The conv training kernels tfjs's wasm backend lacks, which conv experts need to train there. */
const convTrainingKernels = [wasmConv2DBackpropFilterConfig, wasmDepthwiseConv2dNativeBackpropFilterConfig, wasmDepthwiseConv2dNativeBackpropInputConfig];

/**
 * Registers the conv training kernels the wasm backend lacks (`Conv2DBackpropFilter` and the
 * depthwise backprops), so conv experts train on wasm (TFJS-NOTES.md). Idempotent, and it replaces
 * nothing: a kernel already registered (by tfjs or an earlier call) is left alone. Importing
 * `@moekit/experts-conv` calls it; it works whether or not the wasm backend is imported yet.
 * Returns the kernels it registered now, as `'Name/backend'`.
 */
export function registerConvKernels(): string[] {
  const added: string[] = [];
  for (const config of convTrainingKernels) {
    if (getKernel(config.kernelName, config.backendName) !== undefined) continue;
    registerKernel(config);
    added.push(`${config.kernelName}/${config.backendName}`);
  }
  return added;
}
