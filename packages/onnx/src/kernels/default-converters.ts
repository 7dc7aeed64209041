/** moekit's converters of tfjs kernels to ONNX, one family per file, by tfjs kernel name. */
import type { KernelConverter } from '../trace/kernel-converter.js';
import { comparisonConverters } from './comparison.js';
import { creationConverters } from './creation.js';
import { elementwiseConverters } from './elementwise.js';
import { indexingConverters } from './indexing.js';
import { matMulConverters } from './mat-mul.js';
import { reductionConverters } from './reductions.js';
import { scatterConverters } from './scatter.js';
import { selectionConverters } from './selection.js';
import { shapeConverters } from './shape.js';

/** Every built-in converter, by tfjs kernel name. */
export const defaultConverters: Readonly<Record<string, KernelConverter>> = {
  ...elementwiseConverters,
  ...comparisonConverters,
  ...reductionConverters,
  ...selectionConverters,
  ...creationConverters,
  ...indexingConverters,
  ...scatterConverters,
  ...matMulConverters,
  ...shapeConverters,
};
