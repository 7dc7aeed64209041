// Every public entry of the package with bad input: non-finite points (on the host and the device
// interpolation, the padded and the grouped expert layouts, the gate), empty batches, wrong widths and
// group sizes, use after dispose. Each is a named MoEArgumentError and leaks nothing.
import * as tf from '@tensorflow/tfjs';
import { MixtureOfExperts, MoEArgumentError } from '@moekit/core';
import { describe, expect, it } from 'vitest';
import { HashGate } from './hash-gate.js';
import { HashGridEncoding } from './hash-grid-encoding.js';
import { HashGridExperts } from './hash-grid-experts.js';
import { Mlp } from './mlp.js';
import { MoENeRF } from './moe-nerf.js';

const small = { numLevels: 2, log2TableSize: 6, baseResolution: 2, finestResolution: 8 };

/** Runs `fn`, expects it to throw `message` (an MoEArgumentError), and returns the tensors it leaked. */
function leakedByError(fn: () => unknown, message: string): number {
  const before = tf.memory().numTensors;
  let error: unknown;
  try {
    fn();
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(MoEArgumentError);
  expect((error as Error).message).toBe(message);
  return tf.memory().numTensors - before;
}

describe('HashGridEncoding with non-finite points', () => {
  it('names the first NaN / Inf coordinate on the host and the device path, and leaks nothing', () => {
    const enc = new HashGridEncoding({ ...small, seed: 1 });
    const nan = tf.tensor2d([[0.1, 0.2, 0.3], [0.4, NaN, 0.6]]); // flat index 4
    const inf = tf.tensor2d([[0.1, -Infinity, 0.3]]); // flat index 1
    for (const interpolation of ['host', 'device'] as const) {
      expect(leakedByError(() => enc.apply(nan, interpolation), "HashGridEncoding.apply: argument 'points' expected finite values, got NaN at flat index 4 (shape [2, 3])")).toBe(0);
      expect(leakedByError(() => enc.apply(inf, interpolation), "HashGridEncoding.apply: argument 'points' expected finite values, got -Infinity at flat index 1 (shape [1, 3])")).toBe(0);
    }
    expect(() => enc.lookup([0.5, 0.5, NaN])).toThrow("HashGridEncoding.lookup: argument 'points' expected finite values, got NaN at flat index 2 (length 3)");
    expect(() => enc.lookup([0.5, 0.5, 0.5, 0.5])).toThrow("HashGridEncoding.lookup: argument 'points' expected a length divisible by 3 ([T · 3] coordinates), got length 4");
    const flags = tf.tensor2d([[1, 0, 1]], [1, 3], 'bool');
    expect(() => enc.apply(flags)).toThrow("HashGridEncoding.apply: argument 'points' expected dtype float32 or int32, got dtype bool");
    tf.dispose([nan, inf, flags]);
    enc.dispose();
  });

  it('encodes an empty batch [0, 3] to [0, L·F] on both paths', () => {
    const enc = new HashGridEncoding({ ...small, seed: 1 });
    const none = tf.zeros([0, 3]);
    for (const interpolation of ['host', 'device'] as const) {
      const y = enc.apply(none, interpolation);
      expect(y.shape).toEqual([0, 4]); // L·F = 2·2
      y.dispose();
    }
    none.dispose();
    enc.dispose();
  });

  it('refuses use after dispose by name', () => {
    const enc = new HashGridEncoding(small);
    enc.dispose();
    const x = tf.zeros([1, 3]);
    expect(() => enc.apply(x)).toThrow('HashGridEncoding.apply');
    expect(() => enc.apply(x)).toThrow('disposed');
    x.dispose();
  });
});

describe('HashGate with non-finite points', () => {
  it('names the gate input in route and logits, and leaks nothing', () => {
    const gate = new HashGate({ numExperts: 2, encoding: small, seed: 1 });
    const x = tf.tensor2d([[0.1, 0.2, 0.3], [Infinity, 0.5, 0.6]]); // flat index 3
    expect(leakedByError(() => gate.route(x, { training: true }), "HashGate.route: argument 'gateInput' expected finite values, got Infinity at flat index 3 (shape [2, 3])")).toBe(0);
    expect(leakedByError(() => gate.logits(x), "HashGate.logits: argument 'points' expected finite values, got Infinity at flat index 3 (shape [2, 3])")).toBe(0);
    expect(leakedByError(() => gate.owners(x), "HashGate.owners: argument 'points' expected finite values, got Infinity at flat index 3 (shape [2, 3])")).toBe(0);
    x.dispose();
    gate.dispose();
    const y = tf.zeros([1, 3]) as tf.Tensor2D;
    expect(() => gate.owners(y)).toThrow('HashGate.owners: this HashGate was disposed');
    y.dispose();
  });
});

describe('HashGridExperts with non-finite points', () => {
  const bank = () => new HashGridExperts({ experts: [{ encoding: small, hiddenDim: 4 }, { encoding: small, hiddenDim: 4 }], seed: 1 });

  it('names the flat index in the whole padded buffer and the whole grouped rows, and leaks nothing', () => {
    const experts = bank();
    // padded [2, 2, 3]: expert 1's second row holds the NaN, flat index 1·6 + 1·3 + 2 = 11
    const dispatched = tf.tensor3d([[[0.1, 0.1, 0.1], [0.2, 0.2, 0.2]], [[0.3, 0.3, 0.3], [0.4, 0.4, NaN]]]);
    expect(leakedByError(() => experts.apply(dispatched), "HashGridExperts.apply: argument 'dispatched' expected finite values, got NaN at flat index 11 (shape [2, 2, 3])")).toBe(0);
    // grouped [3, 3] with groups [1, 2]: row 2 (expert 1's second) holds the Inf, flat index 2·3 + 0 = 6
    const rows = tf.tensor2d([[0.1, 0.1, 0.1], [0.2, 0.2, 0.2], [Infinity, 0.3, 0.3]]);
    expect(leakedByError(() => experts.applyGrouped(rows, [1, 2]), "HashGridExperts.applyGrouped: argument 'rows' expected finite values, got Infinity at flat index 6 (shape [3, 3])")).toBe(0);
    expect(leakedByError(() => experts.applyExpert(1, rows as tf.Tensor2D), "HashGridExperts.applyExpert: argument 'points' expected finite values, got Infinity at flat index 6 (shape [3, 3])")).toBe(0);
    tf.dispose([dispatched, rows]);
    experts.dispose();
  });

  it('names group sizes that are negative or fractional', () => {
    const experts = bank();
    const rows = tf.zeros([2, 3]);
    expect(leakedByError(() => experts.applyGrouped(rows, [3, -1]), "HashGridExperts.applyGrouped: argument 'groupSizes' expected integers >= 0, got [3, -1]")).toBe(0);
    expect(leakedByError(() => experts.applyGrouped(rows, [0.5, 1.5]), "HashGridExperts.applyGrouped: argument 'groupSizes' expected integers >= 0, got [0.5, 1.5]")).toBe(0);
    rows.dispose();
    experts.dispose();
  });

  it('a MixtureOfExperts over the hash gate and experts names NaN points on both layouts', () => {
    for (const layout of ['padded', 'grouped'] as const) {
      for (const checkFinite of [false, 'auto'] as const) {
        const moe = new MixtureOfExperts({ router: new HashGate({ numExperts: 2, encoding: small, seed: 1 }), experts: bank(), layout, checkFinite });
        const x = tf.tensor2d([[0.1, 0.2, 0.3], [NaN, 0.5, 0.6]]);
        const before = tf.memory().numTensors;
        expect(() => moe.apply(x, { training: true })).toThrow(/expected finite values, got NaN at flat index 3 \(shape \[2, 3\]\)/);
        expect(tf.memory().numTensors).toBe(before);
        x.dispose();
        moe.dispose();
      }
    }
  });
});

describe('MoENeRF and Mlp', () => {
  it('MoENeRF.field names NaN points through its gate (its MoE runs with checkFinite: false)', () => {
    const nerf = new MoENeRF({ gate: new HashGate({ numExperts: 2, encoding: small, seed: 1 }), experts: new HashGridExperts({ experts: [{ encoding: small }, { encoding: small }], seed: 2 }) });
    const x = tf.tensor2d([[0.1, 0.2, NaN]]);
    expect(leakedByError(() => nerf.field(x, { training: false }), "HashGate.route: argument 'gateInput' expected finite values, got NaN at flat index 2 (shape [1, 3])")).toBe(0);
    x.dispose();
    nerf.dispose();
  });

  it('Mlp.apply names an input of the wrong rank or width instead of a tfjs matMul error', () => {
    const mlp = new Mlp({ inputDim: 4, hiddenDim: 3, outputDim: 2, seed: 1 });
    const x = tf.zeros([5, 3]);
    expect(leakedByError(() => mlp.apply(x as tf.Tensor2D), "Mlp.apply: argument 'x' expected shape [N, 4], got shape [5, 3]")).toBe(0);
    const flat = tf.zeros([4]);
    expect(leakedByError(() => mlp.apply(flat as never), "Mlp.apply: argument 'x' expected shape [N, 4], got shape [4]")).toBe(0);
    tf.dispose([x, flat]);
    mlp.dispose();
  });
});
