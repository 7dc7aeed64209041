/**
 * Kernels that move or re-type data: `Reshape` (to the output's static shape), `Identity`, `Cast`.
 */
import type { KernelConverter } from '../trace/kernel-converter.js';
import { ONNX_DATA_TYPE, onnxDType } from '../trace/onnx-dtype.js';

/** Converters of the shape and type kernels, by tfjs kernel name. */
export const shapeConverters: Record<string, KernelConverter> = {
  Reshape: ({ graph, inputs, outputs }) => [graph.op('Reshape', [inputs['x']!, graph.constant('int64', outputs[0]!.shape)])],
  Identity: ({ graph, inputs }) => [graph.op('Identity', [inputs['x']!])],
  Cast: ({ graph, inputs, outputs }) => [graph.op('Cast', [inputs['x']!], { to: ONNX_DATA_TYPE[onnxDType(outputs[0]!.dtype, 'Cast')] })],
};
