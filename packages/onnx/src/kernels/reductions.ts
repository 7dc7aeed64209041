/**
 * Kernels along an axis: the reductions (`Sum`, `Mean`, `Max`, `Min`, `Prod`, `All`, `Any`; at
 * opset 18 ONNX takes their axes as an int64 input, omitted for "all axes"), `ArgMax`/`ArgMin` (ONNX
 * returns int64: cast to tfjs's int32; both take the first index on ties), `Cumsum` (exclusive,
 * reverse) and `Softmax`/`LogSoftmax`. An input whose dtype differs from the output's (tfjs sums bool
 * as int32) is cast first; `All`/`Any` run as int32 `ReduceMin`/`ReduceMax` (ONNX has no bool reduction).
 */
import type { KernelCall, KernelConverter } from '../trace/kernel-converter.js';
import { axisList, castTo, int64s } from './onnx-helpers.js';

function reduce(call: KernelCall, opType: string, via?: 'int32'): string {
  const { graph, inputs, inputTensors, attrs, outputs } = call;
  const from = inputTensors['x']!.dtype;
  const to = outputs[0]!.dtype;
  const x = castTo(graph, inputs['x']!, from, via ?? to);
  const axes = axisList(attrs['axis'] ?? attrs['reductionIndices']);
  const keepdims = attrs['keepDims'] === true ? 1 : 0;
  if (axes !== undefined && axes.length === 0) return castTo(graph, graph.op('Identity', [x]), via ?? to, to);
  const args = axes === undefined ? [x] : [x, int64s(graph, axes)];
  return castTo(graph, graph.op(opType, args, { keepdims }), via ?? to, to);
}

const reduction = (opType: string, via?: 'int32'): KernelConverter => (call) => [reduce(call, opType, via)];

const argReduce = (opType: string): KernelConverter => ({ graph, inputs, attrs }) => {
  const axis = (axisList(attrs['axis']) ?? [0])[0]!;
  return [castTo(graph, graph.op(opType, [inputs['x']!], { axis, keepdims: 0, select_last_index: 0 }), 'int64', 'int32')];
};

const softmax = (opType: string): KernelConverter => ({ graph, inputs, attrs }) => {
  const dim = attrs['dim'] as number | undefined;
  return [graph.op(opType, [inputs['logits']!], { axis: dim ?? -1 })];
};

/** Converters of the kernels along an axis, by tfjs kernel name. */
export const reductionConverters: Record<string, KernelConverter> = {
  Sum: reduction('ReduceSum'),
  Mean: reduction('ReduceMean'),
  Max: reduction('ReduceMax'),
  Min: reduction('ReduceMin'),
  Prod: reduction('ReduceProd'),
  All: reduction('ReduceMin', 'int32'),
  Any: reduction('ReduceMax', 'int32'),
  ArgMax: argReduce('ArgMax'),
  ArgMin: argReduce('ArgMin'),
  Cumsum: ({ graph, inputs, attrs }) => [graph.op('CumSum', [inputs['x']!, graph.constant('int64', attrs['axis'] as number)], {
    exclusive: attrs['exclusive'] === true ? 1 : 0,
    reverse: attrs['reverse'] === true ? 1 : 0,
  })],
  Softmax: softmax('Softmax'),
  LogSoftmax: softmax('LogSoftmax'),
};
