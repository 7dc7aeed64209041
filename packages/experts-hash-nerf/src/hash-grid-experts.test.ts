import * as tf from '@tensorflow/tfjs';
import { MixtureOfExperts } from '@moekit/core';
import { expectNoLeakedTensors, expectTensorsClose } from '@moekit/core/testing';
import { describe, expect, it } from 'vitest';
import { HashGate } from './hash-gate.js';
import { HashGridExperts } from './hash-grid-experts.js';

const specs = [
  { encoding: { numLevels: 2, log2TableSize: 8, baseResolution: 2, finestResolution: 8, initScale: 1 }, hiddenDim: 8 }, // coarse, small
  { encoding: { numLevels: 3, log2TableSize: 10, baseResolution: 4, finestResolution: 32, initScale: 1 }, hiddenDim: 16 }, // fine, larger
];

describe('HashGridExperts', () => {
  it('is heterogeneous: each expert its own resolution range, table size and decoder width', () => {
    const bank = new HashGridExperts({ experts: specs, seed: 1 });
    expect(bank.encodings.map((e) => e.levels.map((l) => l.resolution))).toEqual([[2, 8], [4, 11, 32]]);
    // expert 0: N = 2 dense (27 rows), N = 8 hashed (9^3 = 729 > 256: 256 rows); × F = 2; MLP 4·8 + 8 + 8·4 + 4 = 76
    // expert 1: N = 4 dense (125), N = 11 and 32 hashed (12^3 = 1728 > 1024: 1024 each); × 2; MLP 6·16 + 16 + 16·4 + 4 = 180
    expect(bank.parametersPerExpert).toEqual([2 * (27 + 256) + 76, 2 * (125 + 1024 + 1024) + 180]);
    expect(bank.outputFeatureShape([3])).toEqual([4]);
    bank.dispose();
  });

  it('decodes softplus density and sigmoid colour; padded and grouped agree, forward and backward', () => {
    const bank = new HashGridExperts({ experts: specs, seed: 2 });
    const x = tf.randomUniform([2, 5, 3], 0, 1, 'float32', 3);
    const padded = bank.apply(x); // [2, 5, 4]
    const grouped = bank.applyGrouped(tf.reshape(x, [10, 3]), [5, 5]); // [10, 4]
    expectTensorsClose(tf.reshape(padded, [10, 4]), grouped, { atol: 1e-6 });
    const out = grouped.arraySync() as number[][];
    out.forEach(([sigma, ...rgb]) => { expect(sigma).toBeGreaterThan(0); rgb.forEach((c) => { expect(c).toBeGreaterThan(0); expect(c).toBeLessThan(1); }); });
    // the same numbers by hand: softplus / sigmoid of expert 1's raw MLP output
    const raw = bank.decoders[1]!.apply(bank.encodings[1]!.apply(tf.reshape(tf.slice(x, [1, 0, 0], [1, 1, 3]), [1, 3]))).dataSync();
    const expected = [Math.log1p(Math.exp(raw[0]!)), ...[1, 2, 3].map((i) => 1 / (1 + Math.exp(-raw[i]!)))];
    expectTensorsClose(tf.slice(grouped, [5, 0], [1, 4]), [expected], { atol: 1e-6 });
    const gPadded = tf.variableGrads(() => tf.sum(tf.square(bank.apply(x))) as tf.Scalar, bank.trainableVariables).grads;
    const gGrouped = tf.variableGrads(() => tf.sum(tf.square(bank.applyGrouped(tf.reshape(x, [10, 3]), [5, 5]))) as tf.Scalar, bank.trainableVariables).grads;
    for (const v of bank.trainableVariables) expectTensorsClose(gGrouped[v.name]!, gPadded[v.name]!, { atol: 1e-5 });
    tf.dispose([x, padded, grouped, ...Object.values(gPadded), ...Object.values(gGrouped)]);
    bank.dispose();
  });

  it('routes 3-D points through MixtureOfExperts: output = gate value × the owning expert\'s output', () => {
    const gate = new HashGate({ numExperts: 2, seed: 4, encoding: { initScale: 1 } });
    const bank = new HashGridExperts({ experts: specs, seed: 5 });
    const moe = new MixtureOfExperts({ router: gate, experts: bank });
    const x = tf.randomUniform([30, 3], 0, 1, 'float32', 6) as tf.Tensor2D;
    for (const layout of ['grouped', 'padded'] as const) {
      const m = new MixtureOfExperts({ router: gate, experts: bank, layout });
      const { output, auxLosses } = m.apply(x, { training: true, gateInput: x });
      const probs = gate.route(x, { training: false }).probs.arraySync();
      const owners = gate.owners(x);
      const e0 = bank.applyExpert(0, x).arraySync();
      const e1 = bank.applyExpert(1, x).arraySync();
      const expected = Array.from(owners, (e, t) => (e === 0 ? e0 : e1)[t]!.map((v) => v * probs[t]![e]!));
      expectTensorsClose(output, expected, { atol: 1e-6 });
      expect(m.lastMetrics!.droppedCount).toBe(0); // dropless: HashGate's capacity factors are 0
      tf.dispose([output, ...Object.values(auxLosses)]);
    }
    x.dispose();
    moe.dispose();
  });

  it('names bad specs and inputs, and leaks nothing', async () => {
    expect(() => new HashGridExperts({ experts: [] })).toThrow("HashGridExperts: argument 'experts' expected a non-empty array of expert specs, got ");
    expect(() => new HashGridExperts({ experts: [{}, { encoding: { baseResolution: 32, finestResolution: 8 } }] })).toThrow("HashGridExperts experts[1].encoding: argument 'baseResolution' expected <= finestResolution (8), got 32");
    const bank = new HashGridExperts({ experts: specs, seed: 7 });
    const bad = tf.zeros([2, 3, 2]);
    expect(() => bank.apply(bad)).toThrow("HashGridExperts.apply: argument 'dispatched' expected shape [2, C, 3], got shape [2, 3, 2]");
    const x = tf.randomUniform([12, 3], 0, 1, 'float32', 8);
    await expectNoLeakedTensors(() => {
      const { value, grads } = tf.variableGrads(() => tf.sum(bank.applyGrouped(x, [0, 12])) as tf.Scalar, bank.trainableVariables.slice(5));
      tf.dispose([value, ...Object.values(grads)]);
    });
    tf.dispose([bad, x]);
    bank.dispose();
  });
});
