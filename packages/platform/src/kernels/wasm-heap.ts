// Kernels written in JavaScript over the wasm backend's heap. The wasm backend is an optional peer
// (`@tensorflow/tfjs-backend-wasm`), so it is typed here by the few members these kernels use.
import type { DataType, TensorInfo, backend_util } from '@tensorflow/tfjs-core';

/** The members of tfjs-backend-wasm's `BackendWasm` that moekit's kernels use. @internal */
export interface WasmBackendLike {
  /** Allocates an output on the wasm heap (may grow the heap, detaching earlier views). */
  makeOutput(shape: number[], dtype: DataType, memoryOffset?: number): TensorInfo;
  /** A typed-array view of a tensor's bytes on the heap; take it after the last `makeOutput`. */
  typedArrayFromHeap(t: TensorInfo): backend_util.TypedArray;
  /** Adds a reference to a tensor's buffer (a kernel output sharing its input's data). */
  incRef(dataId: object): void;
  /** Releases a tensor made inside a kernel that is not returned. */
  disposeData(dataId: object, force?: boolean): boolean;
}

/** Product of a shape's dims (1 for a scalar). @internal */
export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}
