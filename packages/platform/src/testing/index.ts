/**
 * Test helpers for suites that run on the wasm backend with moekit's kernels.
 *
 * @packageDocumentation
 */
export { leaveWasmTestBackend, useWasmTestBackend } from './wasm-test-backend.js';
