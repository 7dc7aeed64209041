import * as tf from '@tensorflow/tfjs';
import { MixtureOfExperts } from '@moekit/core';
import { expectNoLeakedTensors, LinearTopKRouter } from '@moekit/core/testing';
import { inflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { EXPERT_PALETTE, gateDecompositionImage } from './gate-decomposition-image.js';
import { HashGate } from './hash-gate.js';
import { HashGridExperts } from './hash-grid-experts.js';

const points = () => tf.randomUniform([40, 3], 0, 1, 'float32', 5) as tf.Tensor2D;

describe('HashGate', () => {
  it('is Top1(Softmax(MLP(Hash(x)))): probabilities, its argmax, the balance loss', () => {
    const gate = new HashGate({ numExperts: 3, seed: 1, encoding: { initScale: 1 } });
    const x = points();
    const r = gate.route(x, { training: true });
    expect(r.probs.shape).toEqual([40, 3]);
    expect(r.expertIndex.shape).toEqual([40, 1]);
    const probs = r.probs.arraySync();
    probs.forEach((row) => expect(row.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6));
    expect(Array.from(r.expertIndex.dataSync())).toEqual(probs.map((row) => row.indexOf(Math.max(...row))));
    expect(Array.from(gate.owners(x))).toEqual(Array.from(r.expertIndex.dataSync()));
    // Switch loss E · Σ f_i P_i, weighted 0.01 in total
    expect(r.auxLosses.total.dataSync()[0]).toBeCloseTo(0.01 * r.auxLosses.loadBalancing!.dataSync()[0]!, 7);
    expect(gate.capacity).toEqual({ train: 0, eval: 0 });
    tf.dispose([x, r.logits, r.probs, r.expertIndex, ...Object.values(r.auxLosses)]);
    gate.dispose();
  });

  it('learns through the MoE combine (the expert output is scaled by the gate value)', () => {
    const gate = new HashGate({ numExperts: 2, seed: 2 });
    const experts = new HashGridExperts({ experts: [{ encoding: { numLevels: 2, log2TableSize: 8 } }, { encoding: { numLevels: 3, log2TableSize: 9 } }], seed: 3 });
    const moe = new MixtureOfExperts({ router: gate, experts });
    const x = points();
    const { value, grads } = tf.variableGrads(() => tf.sum(moe.apply(x, { training: true, gateInput: x }).output) as tf.Scalar, gate.trainableVariables);
    expect(Object.keys(grads)).toHaveLength(5); // table, w1, b1, w2, b2
    expect(tf.sum(tf.abs(grads[gate.encoding.table.name]!)).dataSync()[0]).toBeGreaterThan(0); // reaches the gate's hash table
    tf.dispose([x, value, ...Object.values(grads)]);
    moe.dispose();
  });

  it('its encoding is a gate input path for any router', () => {
    const gate = new HashGate({ numExperts: 2, seed: 4 });
    const router = new LinearTopKRouter({ inputDim: gate.encoding.outputDim, numExperts: 2, k: 1 });
    const experts = new HashGridExperts({ experts: [{ encoding: { numLevels: 2, log2TableSize: 8 } }, { encoding: { numLevels: 2, log2TableSize: 8 } }], seed: 5 });
    const moe = new MixtureOfExperts({ router, experts, capacity: { train: 0 } });
    const x = points();
    const { value, grads } = tf.variableGrads(() => {
      const out = moe.apply(x, { training: true, gateInput: gate.encoding.apply(x) }); // [40, 8] hash features route
      return tf.sum(out.output) as tf.Scalar;
    }, [gate.encoding.table, router.kernel]);
    expect(tf.sum(tf.abs(grads[gate.encoding.table.name]!)).dataSync()[0]).toBeGreaterThan(0);
    tf.dispose([x, value, ...Object.values(grads)]);
    moe.dispose();
    gate.dispose();
  });

  it('exports its decomposition of a slice as a PNG coloured by owning expert', () => {
    const gate = new HashGate({ numExperts: 2, seed: 6 });
    gate.mlp.w2.assign(tf.zeros([32, 2]));
    gate.mlp.b2.assign(tf.tensor1d([0, 1])); // logits (0, 1) everywhere: expert 1 owns the whole slice
    const image = gateDecompositionImage(gate, { axis: 'x', at: 0.3, size: 8 });
    expect(image.counts).toEqual([0, 64]);
    expect(Array.from(image.rgb.subarray(0, 3))).toEqual(EXPERT_PALETTE[1]);
    const raw = inflateSync(image.png.subarray(41, image.png.length - 12 - 4)); // IDAT data: after signature + IHDR + IDAT header, before its CRC and IEND
    expect(raw.length).toBe(8 * (1 + 8 * 3));
    expect(() => gateDecompositionImage(gate, { axis: 'w' as never })).toThrow("gateDecompositionImage: argument 'axis' expected one of 'x' | 'y' | 'z', got 'w'");
    gate.dispose();
  });

  it('names points of width ≠ 3 and leaks nothing', async () => {
    const gate = new HashGate({ numExperts: 2, seed: 7 });
    const bad = tf.zeros([5, 4]) as tf.Tensor2D;
    expect(() => gate.route(bad, { training: false })).toThrow("HashGate.route: argument 'gateInput' expected width 3 ([T, 3] points), got shape [5, 4]");
    expect(() => new HashGate({ numExperts: 2, encoding: { log2TableSize: 30 } })).toThrow("argument 'log2TableSize' expected an integer in [1, 24], got 30");
    const x = points();
    await expectNoLeakedTensors(() => {
      const { value, grads } = tf.variableGrads(() => tf.sum(gate.route(x, { training: true }).probs) as tf.Scalar, gate.trainableVariables);
      tf.dispose([value, ...Object.values(grads)]);
    });
    tf.dispose([bad, x]);
    gate.dispose();
  });
});
