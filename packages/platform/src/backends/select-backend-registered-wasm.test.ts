// selectBackend in a browser whose bundle imported @tensorflow/tfjs-backend-wasm (issue 18): the
// registered factory is found with tf.findBackendFactory and started as it is; the package is never
// imported by name (a bare specifier a browser cannot resolve, which used to report "not installed"
// and pick cpu). The browser is IS_NODE=false; the bundle's wasm backend is a stand-in factory (the
// real one would fetch its .wasm binary over http).
import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it, vi } from 'vitest';

const imported: string[] = [];
vi.mock('./optional-import.js', async (original) => {
  const actual = await original<typeof import('./optional-import.js')>();
  return { ...actual, importOptional: async (pkg: string) => { imported.push(pkg); return actual.importOptional(pkg); } };
});
const { selectBackend } = await import('./select-backend.js');

afterAll(async () => {
  tf.env().set('IS_NODE', true);
  tf.removeBackend('wasm');
  await tf.setBackend('cpu');
});

describe('selectBackend in a browser bundle that registered wasm', () => {
  it('picks the registered wasm backend without importing the package, and says so', async () => {
    vi.stubEnv('MOEKIT_BACKEND', '');
    const cpuFactory = tf.findBackendFactory('cpu')!;
    tf.registerBackend('wasm', cpuFactory); // the bundle's backend (a stand-in that computes like cpu)
    tf.env().set('IS_NODE', false);
    const choice = await selectBackend({ prefer: ['wasm', 'cpu'] });
    expect(choice.backend).toBe('wasm');
    expect(choice.tried).toEqual([{ backend: 'wasm', outcome: 'chosen: wasm (registered by the bundle)' }]);
    expect(choice.reason).toBe('wasm (registered by the bundle)');
    expect(tf.getBackend()).toBe('wasm');
    expect(imported).toEqual([]); // no import('@tensorflow/tfjs-backend-wasm') by name
    vi.unstubAllEnvs();
  });
});
