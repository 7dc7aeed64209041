/**
 * The matrix products: `BatchMatMul` (ONNX `MatMul`, batch dimensions broadcast in both, transposes
 * made explicit) and `_FusedMatMul` (the same, then the bias and the activation as their own nodes).
 */
import { MoEArgumentError } from '@moekit/core';
import type { KernelCall, KernelConverter } from '../trace/kernel-converter.js';
import { scalarOf } from './onnx-helpers.js';

function transposedLastTwo(call: KernelCall, name: string, rank: number): string {
  const perm = [...Array(rank - 2).keys(), rank - 1, rank - 2];
  return call.graph.op('Transpose', [name], { perm });
}

function matMul(call: KernelCall): string {
  const { a, b } = call.inputTensors;
  const left = call.attrs['transposeA'] === true ? transposedLastTwo(call, call.inputs['a']!, a!.rank) : call.inputs['a']!;
  const right = call.attrs['transposeB'] === true ? transposedLastTwo(call, call.inputs['b']!, b!.rank) : call.inputs['b']!;
  return call.graph.op('MatMul', [left, right]);
}

function activation(call: KernelCall, x: string): string {
  const { graph, attrs, inputs } = call;
  const name = (attrs['activation'] as string | undefined) ?? 'linear';
  switch (name) {
    case 'linear': return x;
    case 'relu': return graph.op('Relu', [x]);
    case 'relu6': return graph.op('Clip', [x, scalarOf(graph, 'float32', 0), scalarOf(graph, 'float32', 6)]);
    case 'elu': return graph.op('Elu', [x], { alpha: { float: 1 } });
    case 'sigmoid': return graph.op('Sigmoid', [x]);
    case 'leakyrelu': return graph.op('LeakyRelu', [x], { alpha: { float: (attrs['leakyreluAlpha'] as number | undefined) ?? 0.2 } });
    case 'prelu': return graph.op('PRelu', [x, inputs['preluActivationWeights']!]);
    default: throw new MoEArgumentError('_FusedMatMul converter', 'activation', "'linear', 'relu', 'relu6', 'elu', 'sigmoid', 'leakyrelu' or 'prelu'", `'${name}'`);
  }
}

/** Converters of the matrix products, by tfjs kernel name. */
export const matMulConverters: Record<string, KernelConverter> = {
  BatchMatMul: (call) => [matMul(call)],
  _FusedMatMul: (call) => {
    const product = matMul(call);
    const bias = call.inputs['bias'];
    return [activation(call, bias === undefined ? product : call.graph.op('Add', [product, bias]))];
  },
};
