import { getKernel, registerKernel, unregisterKernel, type KernelConfig } from '@tensorflow/tfjs-core';
import { makeWasmBatchMatMul } from './wasm-batch-mat-mul.js';
import { wasmGatherV2Config } from './wasm-gather-v2.js';
import { makeWasmIdentity } from './wasm-identity.js';
import { wasmOneHotConfig } from './wasm-one-hot.js';
import { makeWasmSplitV, makeWasmUnpack } from './wasm-split-axis0.js';
import { makeWasmSlice } from './wasm-slice.js';
import { makeWasmTranspose } from './wasm-transpose.js';
import { cpuUnsortedSegmentSumConfig, wasmUnsortedSegmentSumConfig } from './unsorted-segment-sum.js';
import { makeCpuMultiply } from './cpu-broadcast-multiply.js';
import { makeCpuSum } from './cpu-sum.js';
import { makeCpuGatherV2 } from './cpu-gather-rows.js';
import { guardWasmBackend, withWasmHeapGuard } from '../backends/wasm-heap-guard.js';

/** Kernels moekit replaced or added, as `'KernelName/backend'`, and the stock ones it replaced. */
const replaced = new Map<string, KernelConfig | undefined>();

function key(config: { kernelName: string; backendName: string }): string {
  return `${config.kernelName}/${config.backendName}`;
}

function install(config: KernelConfig): void {
  if (replaced.has(key(config))) return;
  const stock = getKernel(config.kernelName, config.backendName);
  if (stock !== undefined) unregisterKernel(config.kernelName, config.backendName);
  registerKernel(withWasmHeapGuard(config));
  replaced.set(key(config), stock);
}

/**
 * Registers moekit's kernels with tfjs (idempotent; {@link selectBackend} calls it):
 * on `cpu`, an O(N) `UnsortedSegmentSum` (the stock one is O(segments · N)) and fast paths for the
 * trailing-axis broadcast `Multiply` and single-axis `Sum` of the combine step and row `GatherV2`; on `wasm`, a
 * `BatchMatMul` that always reaches XNNPACK's fast path, the missing `UnsortedSegmentSum`, and
 * correct, fast `GatherV2` and `OneHot` (the stock ones return wrong values for `batchDims = 1` and
 * for float32), block-copy `Unpack` / `SplitV` along axis 0, contiguous `Slice` (grouped experts cut rows and weights) an `Identity` that shares its input's buffer (the stock one copies every tensor saved for backward) and a blocked `Transpose` of the last two axes. (The conv
 * training kernels wasm lacks are `@moekit/experts-conv`'s, registered when it is imported.) The wasm kernels are registered only once `@tensorflow/tfjs-backend-wasm` is imported;
 * call again after importing it. It also installs the wasm heap guard (an allocation past the 4 GiB wasm32
 * heap is an error, not a silent overwrite of other tensors) on the wasm backend however it was started:
 * the instance a plain `tf.setBackend('wasm')` made, every later one, and any instance a moekit wasm
 * kernel runs on. Returns every kernel moekit has registered, as `'Name/backend'`.
 *
 * @example
 * ```ts
 * import '@tensorflow/tfjs-backend-wasm';
 * registerMoekitKernels(); // ['UnsortedSegmentSum/cpu', 'BatchMatMul/wasm', …]
 * ```
 */
export function registerMoekitKernels(): string[] {
  guardWasmBackend();
  install(cpuUnsortedSegmentSumConfig);
  const stockCpuMultiply = replaced.has('Multiply/cpu') ? undefined : getKernel('Multiply', 'cpu');
  if (stockCpuMultiply !== undefined) install(makeCpuMultiply(stockCpuMultiply));
  const stockCpuSum = replaced.has('Sum/cpu') ? undefined : getKernel('Sum', 'cpu');
  if (stockCpuSum !== undefined) install(makeCpuSum(stockCpuSum));
  const stockCpuGather = replaced.has('GatherV2/cpu') ? undefined : getKernel('GatherV2', 'cpu');
  if (stockCpuGather !== undefined) install(makeCpuGatherV2(stockCpuGather));
  const stockWasmMatMul = replaced.has('BatchMatMul/wasm') ? undefined : getKernel('BatchMatMul', 'wasm');
  if (stockWasmMatMul !== undefined) {
    install(makeWasmBatchMatMul(stockWasmMatMul));
    install(wasmUnsortedSegmentSumConfig);
    install(wasmGatherV2Config);
    install(wasmOneHotConfig);
    const stockUnpack = getKernel('Unpack', 'wasm');
    if (stockUnpack !== undefined) install(makeWasmUnpack(stockUnpack));
    const stockSplitV = getKernel('SplitV', 'wasm');
    if (stockSplitV !== undefined) install(makeWasmSplitV(stockSplitV));
    const stockSlice = getKernel('Slice', 'wasm');
    if (stockSlice !== undefined) install(makeWasmSlice(stockSlice));
    const stockIdentity = getKernel('Identity', 'wasm');
    if (stockIdentity !== undefined) install(makeWasmIdentity(stockIdentity));
    const stockTranspose = getKernel('Transpose', 'wasm');
    if (stockTranspose !== undefined) install(makeWasmTranspose(stockTranspose));
  }
  return [...replaced.keys()];
}

/** Puts back the stock kernels that {@link registerMoekitKernels} replaced (for side-by-side measurements). */
export function unregisterMoekitKernels(): void {
  for (const [name, stock] of replaced) {
    const [kernelName, backendName] = name.split('/') as [string, string];
    unregisterKernel(kernelName, backendName);
    if (stock !== undefined) registerKernel(stock);
  }
  replaced.clear();
}
