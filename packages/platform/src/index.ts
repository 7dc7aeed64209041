/**
 * `@moekit/platform`: what moekit needs from the machine it runs on — backend selection
 * (tfjs-node-gpu, webgpu, webgl, wasm with threads, cpu), moekit's tfjs kernels (fast cpu paths,
 * the wasm kernels tfjs lacks or gets wrong), the wasm heap guard, and atomic model files for Node.
 * The engine (`@moekit/core`) runs on any tfjs backend without it.
 *
 * @packageDocumentation
 */
export { registerMoekitKernels, unregisterMoekitKernels } from './kernels/register-moekit-kernels.js';
export { type WasmBackendLike, sizeOf } from './kernels/wasm-heap.js';
export { selectBackend, backendNames, BACKEND_ENV_VAR, type BackendName, type BackendChoice, type BackendAttempt, type SelectBackendOptions } from './backends/select-backend.js';
export { keepTopKOnDevice } from './backends/keep-top-k-on-device.js';
export { initWasmBackend, autoWasmThreads, MAX_WASM_THREADS, type WasmBackendOptions, type WasmBackendInfo } from './backends/wasm-threads.js';
export { fileSystem } from './io/file-system.js';
