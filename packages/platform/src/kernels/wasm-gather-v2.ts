import { GatherV2, util, type KernelConfig, type KernelFunc } from '@tensorflow/tfjs-core';
import { sizeOf, type WasmBackendLike } from './wasm-heap.js';

/**
 * `GatherV2` for the wasm backend. The stock kernel returns garbage (or reads out of bounds) for
 * `batchDims = 1`, and gathers rows slowly (133 ms for 8192 indices into `[4097, 512]`,
 * TFJS-NOTES.md). This one copies whole inner blocks with `TypedArray.set`, handles any `axis` and
 * `batchDims` with TensorFlow's semantics, and rejects out-of-range indices as the cpu backend does.
 * @internal
 */
export const wasmGatherV2Config: KernelConfig = {
  kernelName: GatherV2,
  backendName: 'wasm',
  kernelFunc: (({ inputs, backend, attrs }) => {
    const wasm = backend as unknown as WasmBackendLike;
    const x = inputs['x']!;
    const indices = inputs['indices']!;
    const { axis: rawAxis, batchDims: rawBatchDims = 0 } = attrs as { axis: number; batchDims?: number };
    const axis = util.parseAxisParam(rawAxis, x.shape)[0]!;
    const batchDims = rawBatchDims < 0 ? rawBatchDims + indices.shape.length : rawBatchDims;
    const batch = sizeOf(x.shape.slice(0, batchDims));
    const outer = sizeOf(x.shape.slice(batchDims, axis));
    const dimSize = x.shape[axis]!;
    const inner = sizeOf(x.shape.slice(axis + 1));
    const numIndices = sizeOf(indices.shape.slice(batchDims));
    const shape = [...x.shape.slice(0, axis), ...indices.shape.slice(batchDims), ...x.shape.slice(axis + 1)];

    const out = wasm.makeOutput(shape, x.dtype); // first: it may grow the heap
    const outView = wasm.typedArrayFromHeap(out);
    const xView = wasm.typedArrayFromHeap(x);
    const indexView = wasm.typedArrayFromHeap(indices);
    for (let b = 0; b < batch; b++) {
      for (let o = 0; o < outer; o++) {
        const srcBase = (b * outer + o) * dimSize;
        const dstBase = (b * outer + o) * numIndices;
        for (let i = 0; i < numIndices; i++) {
          const index = indexView[b * numIndices + i]!;
          if (index < 0 || index >= dimSize) {
            wasm.disposeData(out.dataId);
            throw new Error(`GatherV2: the index value ${index} is not in [0, ${dimSize - 1}]`);
          }
          const src = (srcBase + index) * inner;
          outView.set(xView.subarray(src, src + inner), (dstBase + i) * inner);
        }
      }
    }
    return out;
  }) as KernelFunc,
};
