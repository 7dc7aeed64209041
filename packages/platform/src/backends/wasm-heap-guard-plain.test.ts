// The wasm heap guard without selectBackend / initWasmBackend: a plain `tf.setBackend('wasm')` and
// `registerMoekitKernels()`, a wasm backend created again from its factory, and one created from a factory
// moekit never saw, which a moekit kernel guards on its first run.
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { afterAll, describe, expect, it } from 'vitest';
import { registerMoekitKernels, unregisterMoekitKernels } from '../kernels/register-moekit-kernels.js';

const tooLarge = 'wasm heap exhausted: cannot allocate 5000000000 bytes for a [1250000000] float32 tensor (larger than the 4 GiB wasm32 address space';
const stockFactory = tf.findBackendFactory('wasm'); // before moekit wraps it
const isGuarded = () => (tf.backend() as unknown as { moekitHeapGuard?: true }).moekitHeapGuard === true;

afterAll(async () => {
  unregisterMoekitKernels();
  await tf.setBackend('cpu');
});

describe('the wasm heap guard after a plain tf.setBackend("wasm")', () => {
  it('registerMoekitKernels guards the wasm backend already running: 5 GB is a named error', async () => {
    await tf.setBackend('wasm');
    expect(isGuarded()).toBe(false);
    registerMoekitKernels();
    expect(() => tf.zeros([1.25e9])).toThrow(tooLarge);
    const x = tf.tensor1d([1, 2, 3]);
    expect(Array.from(tf.sum(x).dataSync())).toEqual([6]);
    x.dispose();
  }, 60_000);

  it('a wasm backend created again from the registered factory is guarded from its first allocation', async () => {
    const entry = tf.engine().registryFactory['wasm']!;
    tf.removeBackend('wasm');
    tf.registerBackend('wasm', entry.factory, entry.priority);
    await tf.setBackend('wasm');
    expect(isGuarded()).toBe(true);
    expect(() => tf.zeros([1.25e9])).toThrow(tooLarge);
  }, 60_000);

  it('a wasm backend moekit never saw is guarded when a moekit kernel first runs on it', async () => {
    tf.removeBackend('wasm');
    tf.registerBackend('wasm', stockFactory, 2);
    await tf.setBackend('wasm');
    expect(isGuarded()).toBe(false);
    const product = tf.matMul(tf.ones([1, 2, 2]), tf.ones([1, 2, 2])); // moekit's BatchMatMul/wasm
    expect(Array.from(product.dataSync())).toEqual([2, 2, 2, 2]);
    expect(isGuarded()).toBe(true);
    expect(() => tf.zeros([1.25e9])).toThrow(tooLarge);
  }, 60_000);
});
