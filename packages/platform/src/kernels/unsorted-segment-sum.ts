import { UnsortedSegmentSum, type DataType, type KernelConfig, type KernelFunc, type TensorInfo, type backend_util } from '@tensorflow/tfjs-core';
import { segmentSumRows } from './segment-sum.js';
import { sizeOf, type WasmBackendLike } from './wasm-heap.js';
import type { CpuBackendLike } from './cpu-backend.js';

function outputShape(x: TensorInfo, segmentIds: TensorInfo, numSegments: number): { shape: number[]; inner: number } {
  const inner = sizeOf(x.shape.slice(segmentIds.shape.length));
  return { shape: [numSegments, ...x.shape.slice(segmentIds.shape.length)], inner };
}

function zeros(dtype: DataType, size: number): Float32Array | Int32Array {
  return dtype === 'int32' ? new Int32Array(size) : new Float32Array(size);
}

/**
 * `UnsortedSegmentSum` for the cpu backend in O(N · inner). The stock kernel costs
 * O(segments · N · inner) (132 s for `[2048, 512]` into 1024 segments, TFJS-NOTES.md), and `gather`'s
 * gradient — every MoE dispatch and combine — is an `UnsortedSegmentSum`.
 * @internal
 */
export const cpuUnsortedSegmentSumConfig: KernelConfig = {
  kernelName: UnsortedSegmentSum,
  backendName: 'cpu',
  kernelFunc: (({ inputs, backend, attrs }) => {
    const cpu = backend as unknown as CpuBackendLike;
    const x = inputs['x']!;
    const segmentIds = inputs['segmentIds']!;
    const numSegments = (attrs as { numSegments: number }).numSegments;
    const { shape, inner } = outputShape(x, segmentIds, numSegments);
    const out = zeros(x.dtype, sizeOf(shape));
    segmentSumRows(out, cpu.readSync(x.dataId) as backend_util.TypedArray, cpu.readSync(segmentIds.dataId) as backend_util.TypedArray, numSegments, inner);
    return cpu.makeTensorInfo(shape, x.dtype, out);
  }) as KernelFunc,
};

/**
 * `UnsortedSegmentSum` for the wasm backend, which has none (so `gather`'s gradient fails there):
 * one pass over the rows on the wasm heap (19 ms for `[8192, 512]` → 4097 segments in a prototype).
 * @internal
 */
export const wasmUnsortedSegmentSumConfig: KernelConfig = {
  kernelName: UnsortedSegmentSum,
  backendName: 'wasm',
  kernelFunc: (({ inputs, backend, attrs }) => {
    const wasm = backend as unknown as WasmBackendLike;
    const x = inputs['x']!;
    const segmentIds = inputs['segmentIds']!;
    const numSegments = (attrs as { numSegments: number }).numSegments;
    const { shape, inner } = outputShape(x, segmentIds, numSegments);
    const out = wasm.makeOutput(shape, x.dtype); // first: it may grow the heap
    const outView = wasm.typedArrayFromHeap(out) as Float32Array | Int32Array;
    outView.fill(0);
    segmentSumRows(outView, wasm.typedArrayFromHeap(x), wasm.typedArrayFromHeap(segmentIds), numSegments, inner);
    return out;
  }) as KernelFunc,
};
