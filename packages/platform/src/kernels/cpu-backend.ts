// Kernels written in JavaScript over the cpu backend's typed arrays. The cpu backend is typed here by
// the two members these kernels use.
import type { DataType, TensorInfo, backend_util } from '@tensorflow/tfjs-core';

/** The members of tfjs-backend-cpu's `MathBackendCPU` that moekit's kernels use. @internal */
export interface CpuBackendLike {
  /** The tensor's values (the backend's own array, not a copy). */
  readSync(dataId: object): backend_util.BackendValues;
  /** Registers `values` as a new tensor of this backend. */
  makeTensorInfo(shape: number[], dtype: DataType, values: backend_util.BackendValues): TensorInfo;
}
