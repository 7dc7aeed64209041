// selectBackend in Node, where neither tfjs-node package can be installed (their install downloads
// libtensorflow): the default order lands on wasm. That test initialises the wasm backend, so it runs
// last; the wasm paths themselves are covered by the wasm-threads*.test.ts files.
import { availableParallelism } from 'node:os';
import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { MoEArgumentError } from '@moekit/core';
import { selectBackend, type BackendName } from './select-backend.js';
import { autoWasmThreads } from './wasm-threads.js';

const BACKENDS = "one of 'tensorflow' | 'webgpu' | 'webgl' | 'wasm' | 'cpu'";

afterEach(() => {
  vi.unstubAllEnvs();
});

describe('selectBackend', () => {
  it('takes the backend MOEKIT_BACKEND names, and says so', async () => {
    vi.stubEnv('MOEKIT_BACKEND', 'CPU '); // trimmed and lower-cased
    const choice = await selectBackend({ prefer: ['wasm'] }); // the variable wins over prefer
    expect(choice).toEqual({ backend: 'cpu', reason: 'MOEKIT_BACKEND=cpu: cpu', tried: [{ backend: 'cpu', outcome: 'chosen' }], kernels: expect.arrayContaining(['UnsortedSegmentSum/cpu']) });
    expect(tf.getBackend()).toBe('cpu');
  });

  it('rejects an unknown MOEKIT_BACKEND, naming the variable, the allowed values and the value', async () => {
    vi.stubEnv('MOEKIT_BACKEND', 'gpu');
    const error = await selectBackend().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MoEArgumentError);
    expect((error as Error).message).toBe(`selectBackend: argument 'MOEKIT_BACKEND' expected ${BACKENDS}, got 'gpu'`);
  });

  it('fails loudly when the forced backend cannot initialise, with what was tried', async () => {
    vi.stubEnv('MOEKIT_BACKEND', 'tensorflow');
    await expect(selectBackend()).rejects.toThrow(
      "selectBackend: argument 'MOEKIT_BACKEND' expected a backend that initialises here, " +
        "got 'tensorflow' (tfjs-node-gpu not installed; tfjs-node not installed)",
    );
    vi.stubEnv('MOEKIT_BACKEND', 'webgl');
    await expect(selectBackend()).rejects.toThrow("got 'webgl' (webgl needs a browser)");
    expect(tf.getBackend()).toBe('cpu'); // nothing changed
  });

  it('rejects a bad prefer list and a bad thread count', async () => {
    vi.stubEnv('MOEKIT_BACKEND', '');
    await expect(selectBackend({ prefer: ['cpu', 'cuda' as BackendName] })).rejects.toThrow(
      `selectBackend: argument 'prefer' expected a non-empty array of ${BACKENDS}, got 'cuda'`,
    );
    await expect(selectBackend({ prefer: [] })).rejects.toThrow("argument 'prefer' expected a non-empty array");
    await expect(selectBackend({ threads: 0 })).rejects.toThrow(
      "selectBackend: argument 'threads' expected 'auto' or an integer in [1, 8], got 0",
    );
  });

  it('follows prefer, skipping what cannot run in Node', async () => {
    vi.stubEnv('MOEKIT_BACKEND', '');
    const choice = await selectBackend({ prefer: ['webgpu', 'tensorflow', 'cpu'] });
    expect(choice.kernels).toContain('UnsortedSegmentSum/cpu');
    expect(choice).toEqual({
      kernels: choice.kernels,
      backend: 'cpu',
      reason: 'webgpu needs a browser; tfjs-node-gpu not installed; tfjs-node not installed; cpu',
      tried: [
        { backend: 'webgpu', outcome: 'needs a browser' },
        { backend: 'tensorflow', outcome: 'tfjs-node-gpu not installed' },
        { backend: 'tensorflow', outcome: 'tfjs-node not installed' },
        { backend: 'cpu', outcome: 'chosen' },
      ],
    });
    await expect(selectBackend({ prefer: ['webgl'] })).rejects.toThrow(
      "selectBackend: argument 'prefer' expected a backend that initialises here, got [webgl] (webgl needs a browser)",
    );
  });

  it('defaults to tensorflow, then wasm with threads, in Node', async () => {
    vi.stubEnv('MOEKIT_BACKEND', '');
    const threads = autoWasmThreads(availableParallelism()); // 2 on a 2-core machine
    const plural = threads === 1 ? '1 thread' : `${threads} threads`;
    const choice = await selectBackend();
    expect(choice.kernels).toEqual(expect.arrayContaining(['BatchMatMul/wasm', 'UnsortedSegmentSum/wasm', 'GatherV2/wasm', 'OneHot/wasm']));
    expect(choice).toEqual({
      kernels: choice.kernels,
      backend: 'wasm',
      reason: `tfjs-node-gpu not installed; tfjs-node not installed; wasm with ${plural} (SIMD)`,
      tried: [
        { backend: 'tensorflow', outcome: 'tfjs-node-gpu not installed' },
        { backend: 'tensorflow', outcome: 'tfjs-node not installed' },
        { backend: 'wasm', outcome: `chosen: wasm with ${plural} (SIMD)` },
      ],
      threads,
      simd: true,
    });
    expect(tf.getBackend()).toBe('wasm');
    // [1, 3] · [3, 1] = 1·4 + 2·5 + 3·6
    expect(tf.matMul(tf.tensor2d([[1, 2, 3]]), tf.tensor2d([[4], [5], [6]])).arraySync()).toEqual([[32]]);
  });
});
