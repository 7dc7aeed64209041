/**
 * Kernels that move or re-type data: `Reshape`, `ExpandDims`, `Squeeze` (all an ONNX `Reshape` to the
 * output's static shape), `Identity`, `Cast`, `Transpose`, `Tile`, `Concat`, `Pack` (tfjs `stack`:
 * `Unsqueeze` each, then `Concat`) and `PadV2` (constant padding).
 */
import type { KernelCall, KernelConverter } from '../trace/kernel-converter.js';
import { ONNX_DATA_TYPE, onnxDType } from '../trace/onnx-dtype.js';
import { int64s, positiveAxis, scalarOf } from './onnx-helpers.js';

const toOutputShape: KernelConverter = ({ graph, inputs, outputs }) => {
  const x = inputs['x'] ?? inputs['input']!;
  return [graph.op('Reshape', [x, int64s(graph, outputs[0]!.shape)])];
};

/** The names of a list kernel's inputs (`'0'`, `'1'`, …), in order. */
function listInputs(call: KernelCall): string[] {
  return Object.keys(call.inputs).sort((a, b) => Number(a) - Number(b)).map((k) => call.inputs[k]!);
}

/** Converters of the shape and type kernels, by tfjs kernel name. */
export const shapeConverters: Record<string, KernelConverter> = {
  Reshape: toOutputShape,
  ExpandDims: toOutputShape,
  Squeeze: toOutputShape,
  Identity: ({ graph, inputs }) => [graph.op('Identity', [inputs['x']!])],
  Cast: ({ graph, inputs, outputs }) => [graph.op('Cast', [inputs['x']!], { to: ONNX_DATA_TYPE[onnxDType(outputs[0]!.dtype, 'Cast')] })],
  Transpose: ({ graph, inputs, attrs }) => [graph.op('Transpose', [inputs['x']!], { perm: attrs['perm'] as number[] })],
  Tile: ({ graph, inputs, attrs }) => [graph.op('Tile', [inputs['x']!, int64s(graph, attrs['reps'] as number[])])],
  Concat: (call) => {
    const parts = listInputs(call);
    const axis = positiveAxis(call.attrs['axis'] as number, call.outputs[0]!.rank);
    return [parts.length === 1 ? call.graph.op('Identity', parts) : call.graph.op('Concat', parts, { axis })];
  },
  Pack: (call) => {
    const { graph, attrs, outputs } = call;
    const axis = positiveAxis(attrs['axis'] as number, outputs[0]!.rank);
    const parts = listInputs(call).map((name) => graph.op('Unsqueeze', [name, int64s(graph, [axis])]));
    return [parts.length === 1 ? parts[0]! : graph.op('Concat', parts, { axis })];
  },
  PadV2: ({ graph, inputs, attrs, outputs }) => {
    const paddings = attrs['paddings'] as [number, number][];
    const pads = [...paddings.map((p) => p[0]), ...paddings.map((p) => p[1])];
    return [graph.op('Pad', [inputs['x']!, int64s(graph, pads), scalarOf(graph, outputs[0]!.dtype, attrs['constantValue'] as number)], { mode: 'constant' })];
  },
};
