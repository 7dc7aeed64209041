/**
 * Kernels that make a tensor from its shape alone: `Fill`, `ZerosLike`, `OnesLike` (ONNX
 * `ConstantOfShape` of the output's static shape) and `Range` (a constant: its values depend only on
 * the attributes).
 */
import type { KernelConverter } from '../trace/kernel-converter.js';
import { onnxDType } from '../trace/onnx-dtype.js';
import { filled } from './onnx-helpers.js';

/** Converters of the creation kernels, by tfjs kernel name. */
export const creationConverters: Record<string, KernelConverter> = {
  Fill: ({ graph, attrs, outputs }) => [filled(graph, outputs[0]!.shape, outputs[0]!.dtype, attrs['value'] as number)],
  ZerosLike: ({ graph, outputs }) => [filled(graph, outputs[0]!.shape, outputs[0]!.dtype, 0)],
  OnesLike: ({ graph, outputs }) => [filled(graph, outputs[0]!.shape, outputs[0]!.dtype, 1)],
  Range: ({ graph, attrs, outputs }) => {
    const { start, step } = attrs as { start: number; step: number };
    const size = outputs[0]!.shape[0]!;
    return [graph.constant(onnxDType(outputs[0]!.dtype, 'Range'), Array.from({ length: size }, (_, i) => start + i * step), [size])];
  },
};
