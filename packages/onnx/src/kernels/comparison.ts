/**
 * Comparisons, logic and `Select` (tfjs `where`): each is one ONNX node, except `NotEqual`
 * (`Not(Equal)`: ONNX has no NotEqual) and `Select` of bool values (ONNX Runtime's `Where` has no bool
 * kernel: it runs on int32 and casts back).
 */
import type { KernelCall, KernelConverter } from '../trace/kernel-converter.js';
import { castTo } from './onnx-helpers.js';

const compare = (opType: string): KernelConverter => ({ graph, inputs }: KernelCall) => [graph.op(opType, [inputs['a']!, inputs['b']!])];

/** Converters of the comparison and logic kernels, by tfjs kernel name. */
export const comparisonConverters: Record<string, KernelConverter> = {
  Equal: compare('Equal'),
  NotEqual: ({ graph, inputs }) => [graph.op('Not', [graph.op('Equal', [inputs['a']!, inputs['b']!])])],
  Less: compare('Less'),
  LessEqual: compare('LessOrEqual'),
  Greater: compare('Greater'),
  GreaterEqual: compare('GreaterOrEqual'),
  LogicalAnd: compare('And'),
  LogicalOr: compare('Or'),
  LogicalXor: compare('Xor'),
  LogicalNot: ({ graph, inputs }) => [graph.op('Not', [inputs['x']!])],
  Select: ({ graph, inputs, outputs }) => {
    const condition = inputs['condition']!;
    if (outputs[0]!.dtype !== 'bool') return [graph.op('Where', [condition, inputs['t']!, inputs['e']!])];
    const t = castTo(graph, inputs['t']!, 'bool', 'int32');
    const e = castTo(graph, inputs['e']!, 'bool', 'int32');
    return [castTo(graph, graph.op('Where', [condition, t, e]), 'int32', 'bool')];
  },
};
