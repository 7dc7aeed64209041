import { OneHot, type DataType, type KernelConfig, type KernelFunc } from '@tensorflow/tfjs-core';
import type { WasmBackendLike } from './wasm-heap.js';

/**
 * `OneHot` for the wasm backend. The stock kernel ignores `dtype: 'float32'` and writes int32 bits
 * into a float32 tensor (1 reads as 1.4e-45, TFJS-NOTES.md): a silent wrong answer. This one writes
 * `onValue` / `offValue` in the requested dtype; indices outside `[0, depth)` give an all-off row.
 * @internal
 */
export const wasmOneHotConfig: KernelConfig = {
  kernelName: OneHot,
  backendName: 'wasm',
  kernelFunc: (({ inputs, backend, attrs }) => {
    const wasm = backend as unknown as WasmBackendLike;
    const indices = inputs['indices']!;
    const { depth, onValue, offValue, dtype } = attrs as { depth: number; onValue: number; offValue: number; dtype: DataType };
    const out = wasm.makeOutput([...indices.shape, depth], dtype); // first: it may grow the heap
    const outView = wasm.typedArrayFromHeap(out);
    const indexView = wasm.typedArrayFromHeap(indices);
    outView.fill(offValue);
    for (let i = 0; i < indexView.length; i++) {
      const index = indexView[i]!;
      if (index >= 0 && index < depth) outView[i * depth + index] = onValue;
    }
    return out;
  }) as KernelFunc,
};
