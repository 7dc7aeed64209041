/** moekit's converters of tfjs kernels to ONNX, one family per file, by tfjs kernel name. */
import type { KernelConverter } from '../trace/kernel-converter.js';
import { elementwiseConverters } from './elementwise.js';
import { matMulConverters } from './mat-mul.js';
import { shapeConverters } from './shape.js';

/** Every built-in converter, by tfjs kernel name. */
export const defaultConverters: Readonly<Record<string, KernelConverter>> = {
  ...elementwiseConverters,
  ...matMulConverters,
  ...shapeConverters,
};
