/**
 * Selection kernels: `TopK` (ONNX `TopK` along the last axis, sorted, largest first; both tfjs and
 * ONNX put the lower index first on ties; ONNX's int64 indices are cast to tfjs's int32) and `OneHot`.
 * `OneHot` is written as `Equal(indices[..., None], [0, …, depth−1])` rather than ONNX's `OneHot`,
 * which wraps a negative index (−1 → the last class) where tfjs writes a row of `offValue`: with
 * `Equal`, −1 and any index ≥ depth give all-off rows exactly as in tfjs.
 */
import type { KernelConverter } from '../trace/kernel-converter.js';
import { castTo, int64s, scalarOf } from './onnx-helpers.js';

/** Converters of the selection kernels, by tfjs kernel name. */
export const selectionConverters: Record<string, KernelConverter> = {
  TopK: ({ graph, inputs, attrs }) => {
    const [values, indices] = graph.node('TopK', [inputs['x']!, int64s(graph, [attrs['k'] as number])], { axis: -1, largest: 1, sorted: 1 }, 2);
    return [values!, castTo(graph, indices!, 'int64', 'int32')];
  },
  OneHot: ({ graph, inputs, inputTensors, attrs, outputs }) => {
    const depth = attrs['depth'] as number;
    const dtype = outputs[0]!.dtype;
    const indices = castTo(graph, inputs['indices']!, inputTensors['indices']!.dtype, 'int32');
    const classes = graph.constant('int32', [...Array(depth).keys()]); // [depth]
    const hit = graph.op('Equal', [graph.op('Unsqueeze', [indices, int64s(graph, [-1])]), classes]); // [..., depth]
    if (dtype === 'bool') return [castTo(graph, graph.op('Where', [hit, scalarOf(graph, 'int32', attrs['onValue'] as number), scalarOf(graph, 'int32', attrs['offValue'] as number)]), 'int32', 'bool')];
    return [graph.op('Where', [hit, scalarOf(graph, dtype, attrs['onValue'] as number), scalarOf(graph, dtype, attrs['offValue'] as number)])];
  },
};
