import { Multiply, type KernelConfig, type KernelFunc, type TensorInfo } from '@tensorflow/tfjs-core';
import { sizeOf } from './wasm-heap.js';
import type { CpuBackendLike } from './cpu-backend.js';

/**
 * If `small` broadcasts against `full` only along trailing axes (`[T, K, 1]` against `[T, K, D]`, or a
 * scalar), the size of the block each of its elements scales; else `null`. @internal
 */
function trailingBlock(full: number[], small: number[]): number | null {
  if (small.length > full.length) return null;
  const padded = [...new Array<number>(full.length - small.length).fill(1), ...small];
  let i = full.length;
  while (i > 0 && padded[i - 1] === 1) i--; // trailing 1s of `small`
  for (let j = 0; j < i; j++) if (padded[j] !== full[j]) return null; // the rest must match exactly
  return sizeOf(full.slice(i));
}

/**
 * `Multiply` for the cpu backend with a fast path for the broadcast the MoE combine and the
 * optimisers use: one operand the output's shape, the other equal to it up to trailing 1s (combine
 * weights `[T, K, 1]` against outputs `[T, K, D]`, or a scalar learning rate). The stock kernel's general
 * broadcasting took 226 ms for `[4096, 1, 512] × [4096, 1, 1]` against 12.6 ms for equal shapes; this
 * loop takes about the same-shape time. Every other case goes to the stock kernel.
 * @internal
 */
export function makeCpuMultiply(stock: KernelConfig): KernelConfig {
  const kernelFunc: KernelFunc = (args) => {
    const { a, b } = args.inputs as { a: TensorInfo; b: TensorInfo };
    if (a.dtype !== 'float32' || b.dtype !== 'float32') return stock.kernelFunc(args);
    const aFull = sizeOf(a.shape) >= sizeOf(b.shape);
    const [full, small] = aFull ? [a, b] : [b, a];
    const block = trailingBlock(full.shape, small.shape);
    if (block === null || full.shape.length < small.shape.length || (sizeOf(full.shape) === sizeOf(small.shape) && block === 1)) {
      return stock.kernelFunc(args);
    }
    const cpu = args.backend as unknown as CpuBackendLike;
    const x = cpu.readSync(full.dataId) as Float32Array;
    const s = cpu.readSync(small.dataId) as Float32Array;
    const out = new Float32Array(x.length);
    for (let i = 0, o = 0; i < s.length; i++) {
      const v = s[i]!;
      for (let j = 0; j < block; j++, o++) out[o] = x[o]! * v;
    }
    return cpu.makeTensorInfo(full.shape, 'float32', out);
  };
  return { ...stock, kernelName: Multiply, kernelFunc };
}
