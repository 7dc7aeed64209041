/**
 * Scatter kernels, all ONNX `ScatterND` (int64 indices) onto zeros or onto the given tensor:
 * `ScatterNd` (tfjs sums duplicate indices: reduction `add`), `TensorScatterUpdate` (distinct
 * indices; tfjs 4.22's cpu kernel writes into its input tensor as well, ONNX's does not) and `UnsortedSegmentSum`. tfjs drops a segment id outside
 * `[0, numSegments)`; ONNX Runtime would fail on it, so such rows go to one extra segment, sliced off.
 */
import type { KernelConverter } from '../trace/kernel-converter.js';
import { castTo, filled, int64s, scalarOf } from './onnx-helpers.js';

/** Converters of the scatter kernels, by tfjs kernel name. */
export const scatterConverters: Record<string, KernelConverter> = {
  ScatterNd: ({ graph, inputs, inputTensors, outputs }) => {
    const { shape, dtype } = outputs[0]!;
    const indices = castTo(graph, inputs['indices']!, inputTensors['indices']!.dtype, 'int64');
    return [graph.op('ScatterND', [filled(graph, shape, dtype, 0), indices, inputs['updates']!], { reduction: 'add' })];
  },
  TensorScatterUpdate: ({ graph, inputs, inputTensors }) => {
    const indices = castTo(graph, inputs['indices']!, inputTensors['indices']!.dtype, 'int64');
    return [graph.op('ScatterND', [inputs['tensor']!, indices, inputs['updates']!])];
  },
  UnsortedSegmentSum: ({ graph, inputs, inputTensors, attrs, outputs }) => {
    const numSegments = attrs['numSegments'] as number;
    const { shape, dtype } = outputs[0]!; // [numSegments, ...rest]
    const ids = castTo(graph, inputs['segmentIds']!, inputTensors['segmentIds']!.dtype, 'int32');
    const inRange = graph.op('And', [graph.op('GreaterOrEqual', [ids, scalarOf(graph, 'int32', 0)]), graph.op('Less', [ids, scalarOf(graph, 'int32', numSegments)])]);
    const target = graph.op('Where', [inRange, ids, scalarOf(graph, 'int32', numSegments)]);
    const indices = graph.op('Unsqueeze', [castTo(graph, target, 'int32', 'int64'), int64s(graph, [-1])]);
    const sums = graph.op('ScatterND', [filled(graph, [numSegments + 1, ...shape.slice(1)], dtype, 0), indices, inputs['x']!], { reduction: 'add' });
    return [graph.op('Slice', [sums, int64s(graph, [0]), int64s(graph, [numSegments]), int64s(graph, [0])])];
  },
};
