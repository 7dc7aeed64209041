import { Identity, type KernelConfig, type KernelFunc } from '@tensorflow/tfjs-core';
import type { WasmBackendLike } from './wasm-heap.js';

/**
 * `Identity` for the wasm backend that shares its input's buffer (one more reference), as the cpu and
 * webgl backends' do and as wasm's own `Reshape` does. The stock kernel copies the whole buffer, and
 * tfjs runs `Identity` for every tensor it saves for backward (`engine.clone`), so on wasm a training
 * step held a second copy of each saved activation: at the issue-22 layer (T = 4096, D = 512,
 * H = 1024, E = 8) 136 MB of a 299 MB peak. Sharing is safe: tfjs never writes into an existing
 * buffer (a variable's `assign` swaps in a new one). Strings are left to the stock kernel.
 * @internal
 */
export function makeWasmIdentity(stock: KernelConfig): KernelConfig {
  const kernelFunc: KernelFunc = (args) => {
    const { inputs, backend } = args;
    const x = inputs['x']!;
    if (x.dtype === 'string') return stock.kernelFunc(args);
    (backend as unknown as WasmBackendLike).incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
  };
  return { kernelName: Identity, backendName: 'wasm', kernelFunc };
}
