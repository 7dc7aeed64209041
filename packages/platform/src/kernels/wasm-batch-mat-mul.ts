import { BatchMatMul, Reshape, Transpose, getKernel, type KernelConfig, type KernelFunc, type NamedAttrMap, type TensorInfo } from '@tensorflow/tfjs-core';
import { sizeOf, type WasmBackendLike } from './wasm-heap.js';

/**
 * A `BatchMatMul` for the wasm backend that always reaches XNNPACK's fast path. The stock kernel is
 * fast (≈ 27 GFLOP/s here) only for batch 1 without transposes; with `transposeA` it runs at 0.4,
 * `transposeB` 2, batched 0.6 GFLOP/s (TFJS-NOTES.md), and every matMul gradient is transposed.
 * This kernel materialises transposes with the wasm `Transpose` kernel, folds a batch of `a` against
 * a shared `b` into one tall matMul, and splits other batches into batch-1 calls of the stock kernel.
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
    let a = inputs['a']!;
    let b = inputs['b']!;
    // the stock kernel's own fast path: batch 1, no transposes
    if (!transposeA && !transposeB && sizeOf(a.shape.slice(0, -2)) === 1 && sizeOf(b.shape.slice(0, -2)) === 1) {
      return stockMatMul({ inputs, backend, attrs });
    }
    const owned: TensorInfo[] = [];
    const run = (name: string, x: TensorInfo, kernelAttrs: NamedAttrMap): TensorInfo => {
      const out = kernel(name)({ inputs: { x }, backend, attrs: kernelAttrs }) as TensorInfo;
      owned.push(out);
      return out;
    };
    const swapLastTwo = (t: TensorInfo) => [...t.shape.slice(0, -2).map((_, i) => i), t.shape.length - 1, t.shape.length - 2];
    try {
      if (transposeA) a = run(Transpose, a, { perm: swapLastTwo(a) });
      if (transposeB) b = run(Transpose, b, { perm: swapLastTwo(b) });
      const [m, k] = a.shape.slice(-2) as [number, number];
      const n = b.shape[b.shape.length - 1]!;
      const batchA = sizeOf(a.shape.slice(0, -2));
      const batchB = sizeOf(b.shape.slice(0, -2));
      if (batchA !== batchB && batchA !== 1 && batchB !== 1) {
        throw new Error(`moekit BatchMatMul: batch sizes ${batchA} and ${batchB} do not broadcast`);
      }
      const outBatchShape = (batchA >= batchB ? a.shape : b.shape).slice(0, -2);
      const plain: NamedAttrMap = { transposeA: false, transposeB: false };

      if (batchB === 1) {
        // one tall matMul: [batchA · m, k] × [k, n]
        const tallA = run(Reshape, a, { shape: [1, batchA * m, k] });
        const flatB = run(Reshape, b, { shape: [1, k, n] });
        const product = stockMatMul({ inputs: { a: tallA, b: flatB }, backend, attrs: plain }) as TensorInfo;
        owned.push(product);
        return kernel(Reshape)({ inputs: { x: product }, backend, attrs: { shape: [...outBatchShape, m, n] } }) as TensorInfo;
      }

      // one batch-1 matMul per batch entry, each written into its block of the output
      const batch = Math.max(batchA, batchB);
      const out = wasm.makeOutput([...outBatchShape, m, n], 'float32');
      for (let i = 0; i < batch; i++) {
        const ai = wasm.makeOutput([1, m, k], 'float32');
        const bi = wasm.makeOutput([1, k, n], 'float32');
        owned.push(ai, bi);
        const aOffset = (batchA === 1 ? 0 : i) * m * k;
        const bOffset = i * k * n;
        (wasm.typedArrayFromHeap(ai) as Float32Array).set((wasm.typedArrayFromHeap(a) as Float32Array).subarray(aOffset, aOffset + m * k));
        (wasm.typedArrayFromHeap(bi) as Float32Array).set((wasm.typedArrayFromHeap(b) as Float32Array).subarray(bOffset, bOffset + k * n));
        const product = stockMatMul({ inputs: { a: ai, b: bi }, backend, attrs: plain }) as TensorInfo;
        owned.push(product);
        (wasm.typedArrayFromHeap(out) as Float32Array).set(wasm.typedArrayFromHeap(product) as Float32Array, i * m * n);
      }
      return out;
    } finally {
      for (const t of owned) wasm.disposeData(t.dataId);
    }
  };

  return { kernelName: BatchMatMul, backendName: 'wasm', setupFunc: stock.setupFunc, disposeFunc: stock.disposeFunc, kernelFunc };
}
