import { slice_util, util, type KernelConfig, type KernelFunc } from '@tensorflow/tfjs-core';
import { sizeOf, type WasmBackendLike } from './wasm-heap.js';

/**
 * The stock wasm `Slice` first reads the whole input off the heap (`readSync`, a copy of every element)
 * and then copies the slice out of that copy, so cutting `E` experts' blocks from a `[E, K, M]` weight
 * moves `E²·K·M` floats (91× slower than the limit at E = 128 in our benchmark). A contiguous slice (a
 * row range, or one expert's block) is one `TypedArray.set` of just its elements; other slices go to the
 * stock kernel.
 * @internal
 */
export function makeWasmSlice(stock: KernelConfig): KernelConfig {
  const kernelFunc: KernelFunc = (args) => {
    const x = args.inputs['x']!;
    const { begin, size } = args.attrs as unknown as { begin: number[]; size: number[] };
    const [begin_, size_] = slice_util.parseSliceParams(x as never, begin, size) as [number[], number[]];
    if (x.dtype === 'string' || !slice_util.isSliceContinous(x.shape, begin_, size_)) return stock.kernelFunc(args);
    const wasm = args.backend as unknown as WasmBackendLike;
    const offset = slice_util.computeFlatOffset(begin_, util.computeStrides(x.shape));
    const out = wasm.makeOutput(size_, x.dtype); // allocate first: it may grow the heap
    const count = sizeOf(size_);
    wasm.typedArrayFromHeap(out).set(wasm.typedArrayFromHeap(x).subarray(offset, offset + count));
    return out;
  };
  return { ...stock, kernelFunc };
}
