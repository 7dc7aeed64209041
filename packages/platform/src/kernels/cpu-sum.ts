import { Sum, util, type KernelConfig, type KernelFunc } from '@tensorflow/tfjs-core';
import { sizeOf } from './wasm-heap.js';
import type { CpuBackendLike } from './cpu-backend.js';

/**
 * `Sum` over one axis for the cpu backend: `out[o, i] = Σ_a x[o, a, i]` with three plain loops. The
 * stock kernel transposes the reduced axis innermost first, which cost 169 ms to sum `[4096, 1, 512]`
 * over its size-1 axis (the combine's sum over K = 1). Float32 only; other cases go to the stock kernel.
 * @internal
 */
export function makeCpuSum(stock: KernelConfig): KernelConfig {
  const kernelFunc: KernelFunc = (args) => {
    const x = args.inputs['x']!;
    const { axis, keepDims } = args.attrs as { axis: number | number[]; keepDims: boolean };
    const axes = util.parseAxisParam(axis, x.shape);
    if (x.dtype !== 'float32' || axes.length !== 1) return stock.kernelFunc(args);
    const ax = axes[0]!;
    const outer = sizeOf(x.shape.slice(0, ax));
    const length = x.shape[ax]!;
    const inner = sizeOf(x.shape.slice(ax + 1));
    const cpu = args.backend as unknown as CpuBackendLike;
    const values = cpu.readSync(x.dataId) as Float32Array;
    const out = new Float32Array(outer * inner);
    for (let o = 0; o < outer; o++) {
      const base = o * length * inner;
      const target = o * inner;
      for (let a = 0; a < length; a++) {
        const row = base + a * inner;
        for (let i = 0; i < inner; i++) out[target + i]! += values[row + i]!;
      }
    }
    const shape = keepDims ? x.shape.map((d, i) => (i === ax ? 1 : d)) : x.shape.filter((_, i) => i !== ax);
    return cpu.makeTensorInfo(shape, 'float32', out);
  };
  return { ...stock, kernelName: Sum, kernelFunc };
}
