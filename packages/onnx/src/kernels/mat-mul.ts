/** `BatchMatMul`: ONNX `MatMul` (batch dimensions broadcast in both), transposes made explicit. */
import type { KernelCall, KernelConverter } from '../trace/kernel-converter.js';

function transposedLastTwo(call: KernelCall, name: string, rank: number): string {
  const perm = [...Array(rank - 2).keys(), rank - 1, rank - 2];
  return call.graph.op('Transpose', [name], { perm });
}

/** Converters of the matrix products, by tfjs kernel name. */
export const matMulConverters: Record<string, KernelConverter> = {
  BatchMatMul: (call) => {
    const { a, b } = call.inputTensors;
    const left = call.attrs['transposeA'] === true ? transposedLastTwo(call, call.inputs['a']!, a!.rank) : call.inputs['a']!;
    const right = call.attrs['transposeB'] === true ? transposedLastTwo(call, call.inputs['b']!, b!.rank) : call.inputs['b']!;
    return [call.graph.op('MatMul', [left, right])];
  },
};
