/**
 * The contract between the kernel tracer and the per-kernel converters: a converter turns one tfjs
 * kernel call (`Add`, `BatchMatMul`, `TopK`, …) into ONNX nodes. Converters register by kernel name
 * ({@link registerKernelConverter}); `kernels/` holds moekit's, one file per family.
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { OnnxGraph } from '../proto/onnx-graph.js';
import { defaultConverters } from '../kernels/default-converters.js';

/** One recorded kernel call, as a converter sees it. */
export interface KernelCall {
  /** The tfjs kernel name (`'BatchMatMul'`). */
  kernelName: string;
  /** The graph the converter adds nodes to. */
  graph: OnnxGraph;
  /**
   * The ONNX value name of each input, by the kernel's input name (`a`, `b`, `x`, …); kernels taking
   * a list (`Concat`, `Pack`, `AddN`) get the names under `'0'`, `'1'`, … in order.
   */
  inputs: Record<string, string>;
  /** The input tensors themselves, by the same keys: their shapes and dtypes (all static in a trace). */
  inputTensors: Record<string, tf.Tensor>;
  /** The kernel's attributes, as tfjs passed them. */
  attrs: Record<string, unknown>;
  /** The kernel's outputs (their shapes and dtypes: static in a trace). */
  outputs: tf.Tensor[];
}

/** Converts one kernel call; returns the ONNX value name of each of the kernel's outputs, in order. */
export type KernelConverter = (call: KernelCall) => string[];

const converters = new Map<string, KernelConverter>();

/** Registers the converter of a tfjs kernel (a custom kernel, or replacing a built-in one). */
export function registerKernelConverter(kernelName: string, converter: KernelConverter): void {
  converters.set(kernelName, converter);
}

/** The converter registered for a kernel, if any. */
export function kernelConverter(kernelName: string): KernelConverter | undefined {
  return converters.get(kernelName) ?? defaultConverters[kernelName];
}

/** The kernels that have a converter, sorted. */
export function convertibleKernels(): string[] {
  return [...new Set([...Object.keys(defaultConverters), ...converters.keys()])].sort();
}
