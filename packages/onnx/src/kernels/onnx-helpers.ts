/**
 * Small pieces the converters share: casts, int64 and scalar constants, axis lists, filled tensors.
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { OnnxGraph } from '../proto/onnx-graph.js';
import { ONNX_DATA_TYPE, onnxDType } from '../trace/onnx-dtype.js';

/** `name` cast to `dtype` (no node when `from` is already `dtype`). */
export function castTo(graph: OnnxGraph, name: string, from: tf.DataType | 'int64', to: tf.DataType | 'int64'): string {
  if (from === to) return name;
  return graph.op('Cast', [name], { to: ONNX_DATA_TYPE[to === 'int64' ? 'int64' : onnxDType(to, 'Cast')] });
}

/** An int64 vector constant (ONNX takes shapes, axes, starts and sizes as int64 tensors). */
export function int64s(graph: OnnxGraph, values: readonly number[]): string {
  return graph.constant('int64', values, [values.length]);
}

/** A scalar constant of a tfjs dtype. */
export function scalarOf(graph: OnnxGraph, dtype: tf.DataType, value: number): string {
  return graph.constant(onnxDType(dtype, 'constant'), value);
}

/** tfjs's `axis` attribute (a number, a list, or null/undefined for all) as a list, or `undefined` for all. */
export function axisList(axis: unknown): number[] | undefined {
  if (axis === null || axis === undefined) return undefined;
  return typeof axis === 'number' ? [axis] : [...(axis as number[])];
}

/** A possibly negative axis of a rank-`rank` tensor as a non-negative one. */
export function positiveAxis(axis: number, rank: number): number {
  return axis < 0 ? axis + rank : axis;
}

/** A tensor of `shape` filled with `value` of `dtype` (ONNX `ConstantOfShape`). */
export function filled(graph: OnnxGraph, shape: readonly number[], dtype: tf.DataType, value: number): string {
  const onnx = onnxDType(dtype, 'fill');
  const data = onnx === 'float32' ? Float32Array.of(value) : onnx === 'int32' ? Int32Array.of(value) : Uint8Array.of(value ? 1 : 0);
  return graph.op('ConstantOfShape', [int64s(graph, shape)], { value: { tensor: { dtype: onnx, shape: [1], data } } });
}
