import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { createGateKernel } from '../routers/gate-kernel.js';
import { SeedStream } from './seed-stream.js';

describe('SeedStream', () => {
  it('gives fresh seeds each draw and the same sequence after reset or in a new stream', () => {
    const a = new SeedStream(7);
    const first = [a.next(), a.next(), a.next()];
    expect(new Set(first).size).toBe(3);
    a.reset();
    expect([a.next(), a.next(), a.next()]).toEqual(first);
    expect([new SeedStream(7).next()]).toEqual([first[0]]);
    expect(new SeedStream().next()).toBeUndefined();
  });
});

describe('createGateKernel', () => {
  it('initialises zeros or seeded Glorot-uniform within ±√(6 / (Dg + E))', () => {
    const zeros = createGateKernel(4, 2, 'zeros');
    expect(Array.from(zeros.dataSync())).toEqual(new Array(8).fill(0));
    const a = createGateKernel(10, 6, 'glorotUniform', 3);
    const b = createGateKernel(10, 6, 'glorotUniform', 3);
    expect(Array.from(a.dataSync())).toEqual(Array.from(b.dataSync()));
    const limit = Math.sqrt(6 / 16); // 0.612
    expect(Math.max(...Array.from(a.dataSync(), Math.abs))).toBeLessThanOrEqual(limit);
    expect(a.shape).toEqual([10, 6]);
    const sw = createGateKernel(1000, 4, 'switch', 1);
    const values = Array.from(sw.dataSync());
    const std = Math.sqrt(values.reduce((a, v) => a + v * v, 0) / values.length);
    // truncated at 2σ with σ = √(0.1/1000) = 0.01: the sample std is 0.88σ = 0.0088
    expect(std).toBeGreaterThan(0.0080);
    expect(std).toBeLessThan(0.0096);
    expect(Math.max(...values.map(Math.abs))).toBeLessThanOrEqual(0.02 + 1e-7);
    sw.dispose();
    expect(() => createGateKernel(0, 2, 'zeros')).toThrow("createGateKernel: argument 'inputDim' expected an integer >= 1, got 0");
    tf.dispose([zeros, a, b]);
  });
});
