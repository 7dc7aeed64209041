import { GatherV2, util, type KernelConfig, type KernelFunc, type TensorInfo } from '@tensorflow/tfjs-core';
import { sizeOf } from './wasm-heap.js';
import type { CpuBackendLike } from './cpu-backend.js';

/**
 * `GatherV2` for the cpu backend with a fast path for the MoE's row gathers (axis 0, no batch dims):
 * one `TypedArray.set` per row. The stock kernel computes every element's source through
 * `TensorBuffer` index arithmetic, about 25 ms for 1024 rows of 256 floats, the largest cost of a cpu
 * training step outside matMul (dispatch, combine and their gradients gather rows). Other gathers go to
 * the stock kernel.
 * @internal
 */
export function makeCpuGatherV2(stock: KernelConfig): KernelConfig {
  const kernelFunc: KernelFunc = (args) => {
    const { x, indices } = args.inputs as { x: TensorInfo; indices: TensorInfo };
    const { axis, batchDims } = args.attrs as unknown as { axis: number; batchDims: number };
    const parsedAxis = util.parseAxisParam(axis, x.shape)[0];
    if (parsedAxis !== 0 || (batchDims ?? 0) !== 0 || x.dtype === 'string' || x.dtype === 'complex64') return stock.kernelFunc(args);
    const cpu = args.backend as unknown as CpuBackendLike;
    const table = cpu.readSync(x.dataId) as Float32Array | Int32Array;
    const index = cpu.readSync(indices.dataId) as Int32Array | Float32Array;
    const rows = x.shape[0]!;
    const rowSize = sizeOf(x.shape.slice(1));
    const out = x.dtype === 'int32' ? new Int32Array(index.length * rowSize) : new Float32Array(index.length * rowSize);
    for (let i = 0; i < index.length; i++) {
      const r = index[i]!;
      if (!(r >= 0 && r < rows)) throw new Error(`GatherV2: the index value ${r} is not in [0, ${rows - 1}]`);
      out.set(table.subarray(r * rowSize, (r + 1) * rowSize), i * rowSize);
    }
    return cpu.makeTensorInfo([...indices.shape, ...x.shape.slice(1)], x.dtype, out);
  };
  return { ...stock, kernelName: GatherV2, kernelFunc };
}
