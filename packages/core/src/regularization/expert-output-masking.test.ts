import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { MixtureOfExperts } from '../mixture-of-experts.js';
import { expectNoLeakedTensors, expectTensorsClose, FixedRouter, LinearExpertBank } from '../testing/index.js';
import { MoEArgumentError } from '../util/errors.js';
import { SeedStream } from '../util/seed-stream.js';
import { applyOutputMask, drawKeepMask, ExpertOutputMasking } from './expert-output-masking.js';

const probs = [[0.6, 0.4], [0.7, 0.3], [0.2, 0.8], [0.9, 0.1]];
const expertIndex = [[0, 1], [0, 1], [1, 0], [0, 1]];
// expert 0 doubles, expert 1 swaps the two features
const experts = () => new LinearExpertBank({ numExperts: 2, inputDim: 2, weights: [[[2, 0], [0, 2]], [[0, 1], [1, 0]]] });
// each pair's gate-weighted expert output for x = [[1, 2], [3, 4], [5, 6], [7, 8]] (token t, choice k):
// t0: 0.6·[2, 4] = [1.2, 2.4], 0.4·[2, 1] = [0.8, 0.4];  t1: 0.7·[6, 8] = [4.2, 5.6], 0.3·[4, 3] = [1.2, 0.9]
// t2: 0.8·[6, 5] = [4.8, 4.0], 0.2·[10, 12] = [2.0, 2.4];  t3: 0.9·[14, 16] = [12.6, 14.4], 0.1·[8, 7] = [0.8, 0.7]
const pairs = [[[1.2, 2.4], [0.8, 0.4]], [[4.2, 5.6], [1.2, 0.9]], [[4.8, 4.0], [2.0, 2.4]], [[12.6, 14.4], [0.8, 0.7]]];
const x = () => tf.tensor2d([[1, 2], [3, 4], [5, 6], [7, 8]]);

describe('applyOutputMask', () => {
  it('masks and rescales with a fixed mask (hand-computed)', () => {
    const w = tf.tensor2d([[0.6, 0.4], [0.7, 0.3]]);
    const keep = tf.tensor2d([[1, 0], [0, 1]]);
    // inverted, p = 0.5: kept / 0.5 → [[1.2, 0], [0, 0.6]]; fairseq: kept as is; evaluation: identity / × (1 − p)
    expectTensorsClose(applyOutputMask(w, keep, 0.5, 'inverted', true), [[1.2, 0], [0, 0.6]]);
    expectTensorsClose(applyOutputMask(w, keep, 0.5, 'fairseq', true), [[0.6, 0], [0, 0.3]]);
    expectTensorsClose(applyOutputMask(w, keep, 0.5, 'inverted', false), [[0.6, 0.4], [0.7, 0.3]]);
    expectTensorsClose(applyOutputMask(w, keep, 0.5, 'fairseq', false), [[0.3, 0.2], [0.35, 0.15]]);
  });

  it('drops about a fraction p of the entries, the same ones for the same seed', () => {
    const a = drawKeepMask([100, 100], 0.2, 5);
    const b = drawKeepMask([100, 100], 0.2, 5);
    const kept = a.mean().dataSync()[0]!;
    expect(kept).toBeGreaterThan(0.78); // 10 000 Bernoulli(0.8): sd 0.004
    expect(kept).toBeLessThan(0.82);
    expectTensorsClose(a, b);
    tf.dispose([a, b]);
  });
});

describe('ExpertOutputMasking in MixtureOfExperts', () => {
  it('drops (token, expert) pairs before the gate weighting, kept ones scaled by 1/(1 − p) (fixed mask, hand-computed)', () => {
    const moe = new MixtureOfExperts({ router: new FixedRouter({ probs, expertIndex }), experts: experts(), capacity: { train: 0 }, expertOutputMasking: { rate: 0.5, seed: 7 } });
    const input = x();
    const r = moe.apply(input, { training: true });
    // the first call's mask: the masking's seed stream's first seed over the [T, K] = [4, 2] pairs
    const keep = drawKeepMask([4, 2], 0.5, new SeedStream(7).next()).arraySync() as number[][];
    expect(keep.flat().some((v) => v === 0) && keep.flat().some((v) => v === 1)).toBe(true); // this seed drops some pairs, keeps others
    const expected = pairs.map((pk, t) => [0, 1].map((f) => (keep[t]![0]! * pk[0]![f]! + keep[t]![1]! * pk[1]![f]!) / 0.5));
    expectTensorsClose(r.output, expected);
    expect(r.metrics.load).toEqual([4, 4]); // the experts still ran: load and drops are the routing's
    tf.dispose([r.output, ...Object.values(r.auxLosses)]);
    // evaluation: the identity, Σ of every pair
    const e = moe.apply(input, { training: false });
    expectTensorsClose(e.output, pairs.map(([a, b]) => [a![0]! + b![0]!, a![1]! + b![1]!]));
    tf.dispose([e.output, ...Object.values(e.auxLosses), input]);
    moe.dispose();
  });

  it("with 'fairseq' scaling, trains unscaled and multiplies by 1 − p at evaluation", () => {
    const moe = new MixtureOfExperts({ router: new FixedRouter({ probs, expertIndex }), experts: experts(), capacity: { train: 0 }, expertOutputMasking: { rate: 0.25, seed: 3, scaling: 'fairseq' } });
    const input = x();
    const r = moe.apply(input, { training: true });
    const keep = drawKeepMask([4, 2], 0.25, new SeedStream(3).next()).arraySync() as number[][];
    expectTensorsClose(r.output, pairs.map((pk, t) => [0, 1].map((f) => keep[t]![0]! * pk[0]![f]! + keep[t]![1]! * pk[1]![f]!)));
    const e = moe.apply(input, { training: false });
    expectTensorsClose(e.output, pairs.map(([a, b]) => [0.75 * (a![0]! + b![0]!), 0.75 * (a![1]! + b![1]!)]));
    tf.dispose([r.output, e.output, input, ...Object.values(r.auxLosses), ...Object.values(e.auxLosses)]);
    moe.dispose();
  });

  it('passes gradient to the kept pairs only and leaks nothing', async () => {
    await expectNoLeakedTensors(() => {
      const bank = new LinearExpertBank({ numExperts: 2, inputDim: 2, weights: [[[2, 0], [0, 2]], [[0, 1], [1, 0]]] });
      const moe = new MixtureOfExperts({ router: new FixedRouter({ probs, expertIndex }), experts: bank, capacity: { train: 0 }, expertOutputMasking: { rate: 0.5, seed: 7 } });
      const input = x();
      const { value, grads } = tf.variableGrads(() => {
        const r = moe.apply(input, { training: true });
        return tf.sum(r.output) as tf.Scalar;
      }, bank.trainableVariables);
      expect(Number.isFinite(value.dataSync()[0])).toBe(true);
      tf.dispose([value, ...Object.values(grads), input]);
      moe.dispose();
    });
  });

  it('is saved in the config with its defaults and rejects bad rates and unknown keys by name', () => {
    const moe = new MixtureOfExperts({ router: new FixedRouter({ probs, expertIndex }), experts: experts(), expertOutputMasking: {} });
    expect(moe.config.expertOutputMasking).toEqual({ rate: 0.2, scaling: 'inverted' });
    expect(new ExpertOutputMasking({ rate: 0.1, seed: 4 }).config).toEqual({ rate: 0.1, seed: 4, scaling: 'inverted' });
    const make = (args: object) => () => new MixtureOfExperts({ router: new FixedRouter({ probs, expertIndex }), experts: experts(), expertOutputMasking: args });
    expect(make({ rate: 1 })).toThrow(MoEArgumentError);
    expect(make({ rate: 1 })).toThrow(/expertOutputMasking.*rate.*a fraction in \[0, 1\)/s);
    expect(make({ p: 0.2 })).toThrow(/unknown option 'p'/);
    expect(make({ scaling: 'torch' })).toThrow(/scaling/);
  });
});
