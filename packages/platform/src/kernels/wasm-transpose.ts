import type { KernelConfig, KernelFunc } from '@tensorflow/tfjs-core';
import { sizeOf, type WasmBackendLike } from './wasm-heap.js';

/** Tile edge of the blocked copy: 16 × 16 floats keep both the read and the written rows in cache. */
const TILE = 16;

/**
 * The wasm `Transpose` of the last two axes (leading axes in place: every matMul transpose) as a
 * blocked copy over the heap. The stock kernel writes one strided element at a time: 0.4–0.7 GB/s
 * for a `[512, 1024]` weight or a `[1024, 70]` product (2.9 ms and 0.66 ms on the development
 * machine), against 2.6 and 1.5 GB/s blocked — and moekit's `BatchMatMul` transposes an operand or a
 * product of every matMul gradient. Other permutations and dtypes go to the stock kernel.
 * @internal
 */
export function makeWasmTranspose(stock: KernelConfig): KernelConfig {
  const kernelFunc: KernelFunc = (args) => {
    const x = args.inputs['x']!;
    const { perm } = args.attrs as unknown as { perm: number[] };
    const rank = x.shape.length;
    const swapsLastTwo = rank >= 2 && perm.every((p, i) => (i < rank - 2 ? p === i : p === (i === rank - 1 ? rank - 2 : rank - 1)));
    if (!swapsLastTwo || (x.dtype !== 'float32' && x.dtype !== 'int32')) return stock.kernelFunc(args);
    const wasm = args.backend as unknown as WasmBackendLike;
    const rows = x.shape[rank - 2]!;
    const cols = x.shape[rank - 1]!;
    const out = wasm.makeOutput([...x.shape.slice(0, -2), cols, rows], x.dtype); // allocate first: it may grow the heap
    const src = wasm.typedArrayFromHeap(x);
    const dst = wasm.typedArrayFromHeap(out);
    const batch = sizeOf(x.shape.slice(0, -2));
    for (let b = 0, base = 0; b < batch; b++, base += rows * cols) {
      for (let i0 = 0; i0 < rows; i0 += TILE) {
        const i1 = Math.min(i0 + TILE, rows);
        for (let j0 = 0; j0 < cols; j0 += TILE) {
          const j1 = Math.min(j0 + TILE, cols);
          for (let i = i0; i < i1; i++) {
            const from = base + i * cols;
            for (let j = j0; j < j1; j++) dst[base + j * rows + i] = src[from + j]!;
          }
        }
      }
    }
    return out;
  };
  return { ...stock, kernelFunc };
}
