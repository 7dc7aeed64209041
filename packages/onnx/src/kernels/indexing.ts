/**
 * Indexing kernels: `GatherV2` (ONNX `Gather`; with `batchDims` = `axis`, `GatherND` over the batch
 * dimensions), `Slice` and `StridedSlice` (ONNX `Slice` with bounds from tfjs's own slice rules, then a
 * `Reshape` to the output's static shape for the axes tfjs adds or shrinks), `SplitV` and `Unpack`
 * (ONNX `Split` with the sizes of the outputs' static shapes).
 */
import * as tf from '@tensorflow/tfjs-core';
import { MoEArgumentError } from '@moekit/core';
import type { KernelConverter } from '../trace/kernel-converter.js';
import { castTo, int64s, positiveAxis } from './onnx-helpers.js';

/** ONNX `Slice`'s "before the first element" end for a negative step (any value below −dim). */
const BEFORE_START = -(2 ** 31);

/** Converters of the indexing kernels, by tfjs kernel name. */
export const indexingConverters: Record<string, KernelConverter> = {
  GatherV2: ({ graph, inputs, inputTensors, attrs }) => {
    const x = inputTensors['x']!;
    const axis = positiveAxis(attrs['axis'] as number, x.rank);
    const batchDims = positiveAxis((attrs['batchDims'] as number | undefined) ?? 0, inputTensors['indices']!.rank);
    if (batchDims === 0) return [graph.op('Gather', [inputs['x']!, inputs['indices']!], { axis })];
    if (axis !== batchDims) throw new MoEArgumentError('GatherV2 converter', 'axis', `equal to batchDims (${batchDims}) when batchDims > 0`, `${axis}`);
    // result[b…, i…, r…] = x[b…, indices[b…, i…], r…]: GatherND over the batch dimensions, one index per entry
    const indices = graph.op('Unsqueeze', [castTo(graph, inputs['indices']!, inputTensors['indices']!.dtype, 'int64'), int64s(graph, [-1])]);
    return [graph.op('GatherND', [inputs['x']!, indices], { batch_dims: batchDims })];
  },
  Slice: ({ graph, inputs, inputTensors, attrs, outputs }) => {
    const [begin] = tf.slice_util.parseSliceParams(inputTensors['x']!, attrs['begin'] as number[], attrs['size'] as number[]);
    const ends = begin!.map((b, i) => b + outputs[0]!.shape[i]!);
    return [graph.op('Slice', [inputs['x']!, int64s(graph, begin!), int64s(graph, ends)])];
  },
  StridedSlice: ({ graph, inputs, inputTensors, attrs, outputs }) => {
    const a = attrs as { begin: number[]; end: number[]; strides?: number[]; beginMask: number; endMask: number; ellipsisMask: number; newAxisMask: number; shrinkAxisMask: number };
    const info = tf.slice_util.sliceInfo(inputTensors['x']!.shape, a.begin, a.end, a.strides ?? a.begin.map(() => 1), a.beginMask, a.endMask, a.ellipsisMask, a.newAxisMask, a.shrinkAxisMask);
    const ends = info.end.map((e, i) => (info.strides[i]! < 0 && e < 0 ? BEFORE_START : e));
    const sliced = graph.op('Slice', [inputs['x']!, int64s(graph, info.begin), int64s(graph, ends), int64s(graph, info.begin.map((_, i) => i)), int64s(graph, info.strides)]);
    return [graph.op('Reshape', [sliced, int64s(graph, outputs[0]!.shape)])];
  },
  SplitV: ({ graph, inputs, attrs, outputs }) => {
    const axis = positiveAxis(attrs['axis'] as number, outputs[0]!.rank);
    return graph.node('Split', [inputs['x']!, int64s(graph, outputs.map((o) => o.shape[axis]!))], { axis }, outputs.length);
  },
  Unpack: ({ graph, inputs, inputTensors, attrs, outputs }) => {
    const axis = positiveAxis(attrs['axis'] as number, inputTensors['value']!.rank);
    const value = inputs['value']!;
    const parts = graph.node('Split', [value, int64s(graph, outputs.map(() => 1))], { axis }, outputs.length);
    return parts.map((part) => graph.op('Squeeze', [part, int64s(graph, [axis])]));
  },
};
