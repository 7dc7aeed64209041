import { BatchMatMul, Reshape, Transpose, getKernel, type KernelConfig, type KernelFunc, type NamedAttrMap, type TensorInfo } from '@tensorflow/tfjs-core';
import { sizeOf, type WasmBackendLike } from './wasm-heap.js';

/**
 * A `BatchMatMul` for the wasm backend that always reaches XNNPACK's fast path. The stock kernel is
 * fast (≈ 27 GFLOP/s here) only for batch 1 without transposes; with `transposeA` it runs at 0.4,
 * `transposeB` 2, batched 0.6 GFLOP/s (TFJS-NOTES.md), and every matMul gradient is transposed.
 * This kernel materialises transposes with the wasm `Transpose` kernel — of the operands, or of the
 * other operands and the product, whichever copies less (see `product2d`) — folds a batch of `a`
 * against a shared `b` into one tall matMul, and splits other batches into batch-1 calls of the stock
 * kernel.
 * @internal
 */
export function makeWasmBatchMatMul(stock: KernelConfig): KernelConfig {
  const stockMatMul = stock.kernelFunc;
  const kernel = (name: string): KernelFunc => {
    const config = getKernel(name, 'wasm');
    if (config === undefined) throw new Error(`moekit BatchMatMul: the wasm backend has no ${name} kernel`);
    return config.kernelFunc;
  };

  const kernelFunc: KernelFunc = ({ inputs, backend, attrs }) => {
    const wasm = backend as unknown as WasmBackendLike;
    const { transposeA, transposeB } = attrs as { transposeA: boolean; transposeB: boolean };
    const a = inputs['a']!;
    const b = inputs['b']!;
    // the stock kernel's own fast path: batch 1, no transposes. (Swapping a plain product of few rows,
    // to stream its fresh weight instead of packing it, was 10–15 % slower over a whole E = 64 step
    // although cheaper alone: measured 2026-12-01, issue 22.)
    if (!transposeA && !transposeB && sizeOf(a.shape.slice(0, -2)) === 1 && sizeOf(b.shape.slice(0, -2)) === 1) {
      return stockMatMul({ inputs, backend, attrs });
    }
    const owned: TensorInfo[] = [];
    const run = (name: string, x: TensorInfo, kernelAttrs: NamedAttrMap): TensorInfo => {
      const out = kernel(name)({ inputs: { x }, backend, attrs: kernelAttrs }) as TensorInfo;
      owned.push(out);
      return out;
    };
    const transposed = (x: TensorInfo) => run(Transpose, x, { perm: [0, 2, 1] });
    const stock2d = (x: TensorInfo, y: TensorInfo) => {
      const product = stockMatMul({ inputs: { a: x, b: y }, backend, attrs: { transposeA: false, transposeB: false } }) as TensorInfo;
      owned.push(product);
      return product;
    };
    /** `op(a)·op(b)` `[1, m, n]` for batch-1 `a`, `b` through the stock kernel, direct or swapped (see {@link swappedIsCheaper}). */
    const product2d = (x: TensorInfo, y: TensorInfo, ta: boolean, tb: boolean, m: number, k: number, n: number): TensorInfo => {
      if (!swappedIsCheaper(ta, tb, m, k, n)) return stock2d(ta ? transposed(x) : x, tb ? transposed(y) : y);
      return transposed(stock2d(tb ? y : transposed(y), ta ? x : transposed(x)));
    };
    try {
      const [m, k] = (transposeA ? [a.shape.at(-1)!, a.shape.at(-2)!] : a.shape.slice(-2)) as [number, number];
      const n = transposeB ? b.shape.at(-2)! : b.shape.at(-1)!;
      const batchA = sizeOf(a.shape.slice(0, -2));
      const batchB = sizeOf(b.shape.slice(0, -2));
      if (batchA !== batchB && batchA !== 1 && batchB !== 1) {
        throw new Error(`moekit BatchMatMul: batch sizes ${batchA} and ${batchB} do not broadcast`);
      }
      const outBatchShape = (batchA >= batchB ? a.shape : b.shape).slice(0, -2);

      const rowsA = transposeA ? k : m;
      const colsA = transposeA ? m : k;
      const rowsB = transposeB ? n : k;
      const colsB = transposeB ? k : n;
      if (batchB === 1 && !transposeA) {
        // one tall matMul: [batchA · m, k] × op(b) (batch 1 included)
        const tallA = run(Reshape, a, { shape: [1, batchA * m, k] });
        const product = product2d(tallA, run(Reshape, b, { shape: [1, rowsB, colsB] }), false, transposeB, batchA * m, k, n);
        return kernel(Reshape)({ inputs: { x: product }, backend, attrs: { shape: [...outBatchShape, m, n] } }) as TensorInfo;
      }
      const batch = Math.max(batchA, batchB);
      if (batch === 1) {
        // one 2-D product on the inputs themselves (reshapes share the buffer)
        const product = product2d(run(Reshape, a, { shape: [1, rowsA, colsA] }), run(Reshape, b, { shape: [1, rowsB, colsB] }), transposeA, transposeB, m, k, n);
        return kernel(Reshape)({ inputs: { x: product }, backend, attrs: { shape: [...outBatchShape, m, n] } }) as TensorInfo;
      }
      // one 2-D product per batch entry, each written into its block of the output
      const out = wasm.makeOutput([...outBatchShape, m, n], 'float32');
      for (let i = 0; i < batch; i++) {
        const ai = wasm.makeOutput([1, rowsA, colsA], 'float32');
        const bi = wasm.makeOutput([1, rowsB, colsB], 'float32');
        owned.push(ai, bi);
        const aOffset = (batchA === 1 ? 0 : i) * m * k;
        const bOffset = (batchB === 1 ? 0 : i) * k * n;
        (wasm.typedArrayFromHeap(ai) as Float32Array).set((wasm.typedArrayFromHeap(a) as Float32Array).subarray(aOffset, aOffset + m * k));
        (wasm.typedArrayFromHeap(bi) as Float32Array).set((wasm.typedArrayFromHeap(b) as Float32Array).subarray(bOffset, bOffset + k * n));
        const product = product2d(ai, bi, transposeA, transposeB, m, k, n);
        (wasm.typedArrayFromHeap(out) as Float32Array).set(wasm.typedArrayFromHeap(product) as Float32Array, i * m * n);
      }
      return out;
    } finally {
      for (const t of owned) wasm.disposeData(t.dataId);
    }
  };

  return { kernelName: BatchMatMul, backendName: 'wasm', setupFunc: stock.setupFunc, disposeFunc: stock.disposeFunc, kernelFunc };
}

/**
 * XNNPACK packs the right operand of every product it has not seen (about 2.6× the cost of moekit's
 * blocked transpose per element, measured on `[512, 1024]`: 2.0 ms against 0.76 ms). `op(a)·op(b)`
 * `[m, n]` can be computed directly — transpose the operands that need it, pack `op(b)` `[k, n]` — or
 * swapped, as `(op(b)ᵀ·op(a)ᵀ)ᵀ` — transpose the other operands and the `[m, n]` product, pack
 * `op(a)ᵀ` `[k, m]`. Whether the swapped form moves fewer elements: for a gradient `dy·Wᵀ` over an
 * expert's few rows it does by far (the weight is streamed, never transposed or packed: 2.4× the
 * GFLOP/s at E = 64), for many rows it does not. Plain products always go direct (see the kernel).
 * @internal
 */
export function swappedIsCheaper(ta: boolean, tb: boolean, m: number, k: number, n: number): boolean {
  const PACK = 2.6;
  const direct = (ta ? m * k : 0) + (tb ? k * n : 0) + PACK * k * n;
  const swapped = (ta ? 0 : m * k) + (tb ? 0 : k * n) + m * n + PACK * m * k;
  return swapped < direct;
}
