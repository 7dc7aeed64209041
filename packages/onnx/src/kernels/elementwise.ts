/**
 * Element-wise tfjs kernels: binary ones broadcast as NumPy does in both tfjs and ONNX
 * (multidirectional broadcasting), so each is one ONNX node; unary ones map one to one.
 */
import type { KernelCall, KernelConverter } from '../trace/kernel-converter.js';

const binary = (opType: string): KernelConverter => ({ graph, inputs }: KernelCall) => [graph.op(opType, [inputs['a']!, inputs['b']!])];
const unary = (opType: string): KernelConverter => ({ graph, inputs }: KernelCall) => [graph.op(opType, [inputs['x']!])];

/** Converters of the element-wise kernels, by tfjs kernel name. */
export const elementwiseConverters: Record<string, KernelConverter> = {
  Add: binary('Add'),
  Sub: binary('Sub'),
  Multiply: binary('Mul'),
  RealDiv: binary('Div'),
  Relu: unary('Relu'),
  Exp: unary('Exp'),
};
