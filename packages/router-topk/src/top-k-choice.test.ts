import * as tf from '@tensorflow/tfjs';
import { componentConfig, EXCLUDED_LOGIT, fromComponentConfig, MoEArgumentError, MoEDisposedError, type TokenChoiceOutput } from '@moekit/core';
import { expectNoLeakedTensors } from '@moekit/core/testing';
import { describe, expect, it } from 'vitest';
import './register.js';
import { TopKChoice, type TopKChoiceArgs } from './top-k-choice.js';

function release(out: TokenChoiceOutput) {
  tf.dispose([out.logits, out.probs, out.expertIndex, ...Object.values(out.auxLosses)]);
}

function routeOnce(args: TopKChoiceArgs, logits: number[][], training = false) {
  const algorithm = new TopKChoice(args);
  const u = tf.tensor2d(logits);
  const out = algorithm.route(u, { training });
  const result = {
    expertIndex: out.expertIndex.arraySync(),
    probs: out.probs.arraySync(),
    loadBalancing: out.auxLosses['loadBalancing']!.dataSync()[0]!,
    total: out.auxLosses.total.dataSync()[0]!,
    logits: out.logits.arraySync(),
  };
  expect(out.expertIndex.dtype).toBe('int32');
  release(out);
  u.dispose();
  algorithm.dispose();
  return result;
}

/** `actual` equals `expected` in shape and within `atol` elementwise. */
function expectClose(actual: number[][], expected: number[][], atol = 1e-6) {
  expect(actual.map((row) => row.length)).toEqual(expected.map((row) => row.length));
  actual.forEach((row, i) => row.forEach((v, j) => expect(Math.abs(v - expected[i]![j]!)).toBeLessThanOrEqual(atol)));
}

const SOFTMAX_LOGITS = [[1, 0, -1], [0, 2, 1], [1, 2, 0]];

describe("TopKChoice, gating: 'softmax'", () => {
  it('gates with Softmax(KeepTopK(logits, k)) and reports the Switch loss (hand-computed)', () => {
    const r = routeOnce({ numExperts: 3, k: 2 }, SOFTMAX_LOGITS);
    expect(r.expertIndex).toEqual([[0, 1], [1, 2], [1, 0]]);
    expect(r.logits).toEqual(SOFTMAX_LOGITS); // the clean scores, returned as they came
    // row 0 keeps logits [1, 0] → softmax [0.731059, 0.268941]; rows 1 and 2 likewise
    expectClose(r.probs, [[0.731059, 0.268941, 0], [0, 0.731059, 0.268941], [0.268941, 0.731059, 0]]);
    // P = mean softmax(logits) = [0.333333, 0.525070, 0.141597], f (first choices 0, 1, 1) = [1/3, 2/3, 0]
    // → 3 · (1/3 · 0.333333 + 2/3 · 0.525070) = 1.383474; total = 0.01 · 1.383474
    expect(r.loadBalancing).toBeCloseTo(1.383474, 5);
    expect(r.total).toBeCloseTo(0.01383474, 7);
  });

  it("with gates: 'softmax' returns the full softmax (Switch, V-MoE)", () => {
    const r = routeOnce({ numExperts: 3, k: 1, gates: 'softmax' }, SOFTMAX_LOGITS);
    expect(r.expertIndex).toEqual([[0], [1], [1]]);
    expectClose(r.probs, [[0.665241, 0.244728, 0.090031], [0.090031, 0.665241, 0.244728], [0.244728, 0.665241, 0.090031]]);
  });
});

describe("TopKChoice, gating: 'sigmoid' (DeepSeek-V3 Eqs. 13-15)", () => {
  it('normalises the sigmoid affinities over the top-k: logits [0, ln 3] → s = [0.5, 0.75] → g = [0.4, 0.6]', () => {
    const logits = [[0, Math.log(3), Math.log(1 / 3)], [Math.log(3), -Math.log(3), Math.log(4)]];
    const r = routeOnce({ numExperts: 3, k: 2, gating: 'sigmoid' }, logits);
    // row 0: s = [0.5, 0.75, 0.25] → top-2 {1, 0} → g = [0.5, 0.75] / 1.25 = [0.4, 0.6]
    // row 1: s = [0.75, 0.25, 0.8] → top-2 {2, 0} → g = [0.75, 0.8] / 1.55 = [0.483871, 0.516129]
    expect(r.expertIndex).toEqual([[1, 0], [2, 0]]);
    expectClose(r.probs, [[0.4, 0.6, 0], [0.483871, 0, 0.516129]]);
    // P from s' = s / Σ_j s_j (Eq. 19): row 0 [1/3, 1/2, 1/6], row 1 [0.416667, 0.138889, 0.444444]
    // → P = [0.375, 0.319444, 0.305556]; f (first choices 1, 2) = [0, 0.5, 0.5]
    // → 3 · (0.5 · 0.319444 + 0.5 · 0.305556) = 0.9375; weight 0.01 without a bias update
    expect(r.loadBalancing).toBeCloseTo(0.9375, 5);
    expect(r.total).toBeCloseTo(0.009375, 7);
  });

  it('with k = 1 every chosen gate is s / s = 1', () => {
    const r = routeOnce({ numExperts: 3, k: 1, gating: 'sigmoid' }, [[0, Math.log(3), -1]]);
    expect(r.probs).toEqual([[0, 1, 0]]);
  });

  it('defaults the load-balancing weight to 0 with sigmoid + bias, 0.01 otherwise', () => {
    const weight = (args: Partial<TopKChoiceArgs>) => {
      const algorithm = new TopKChoice({ numExperts: 4, ...args });
      const w = algorithm.config.loadBalancingWeight;
      algorithm.dispose();
      return w;
    };
    expect(weight({ gating: 'sigmoid', biasUpdateRate: 1e-3 })).toBe(0);
    expect(weight({ gating: 'sigmoid' })).toBe(0.01);
    expect(weight({ gating: 'softmax', biasUpdateRate: 1e-3 })).toBe(0.01);
    expect(weight({ gating: 'sigmoid', biasUpdateRate: 1e-3, loadBalancingWeight: 1e-4 })).toBe(1e-4);
    // a zero weight still reports the unweighted loss
    const r = routeOnce({ numExperts: 3, k: 2, gating: 'sigmoid', biasUpdateRate: 1e-3 }, [[0, Math.log(3), Math.log(1 / 3)], [Math.log(3), -Math.log(3), Math.log(4)]]);
    expect(r.total).toBe(0);
    expect(r.loadBalancing).toBeCloseTo(0.9375, 5);
  });
});

describe('TopKChoice routing options', () => {
  it('never chooses an excluded expert (EXCLUDED_LOGIT), with either gating', () => {
    for (const gating of ['softmax', 'sigmoid'] as const) {
      const r = routeOnce({ numExperts: 3, k: 2, gating }, [[EXCLUDED_LOGIT, 0, -1], [2, EXCLUDED_LOGIT, 1]]);
      expect(r.expertIndex).toEqual([[1, 2], [0, 2]]);
      expect(r.probs[0]![0]).toBe(0);
      expect(r.probs[1]![1]).toBe(0);
    }
  });

  it('leaks nothing, in training (bias update) and evaluation', async () => {
    const algorithm = new TopKChoice({ numExperts: 4, k: 2, gating: 'sigmoid', biasUpdateRate: 0.01 });
    const logits = tf.randomNormal([32, 4], 0, 1, 'float32', 1) as tf.Tensor2D;
    for (const training of [true, false]) await expectNoLeakedTensors(() => release(algorithm.route(logits, { training })));
    const before = tf.memory().numTensors;
    algorithm.dispose();
    expect(tf.memory().numTensors).toBe(before - 1); // the bias
    logits.dispose();
  });
});

describe('TopKChoice configuration', () => {
  it('rejects bad arguments with MoEArgumentError naming the argument', () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ numExperts: 0 }, "TopKChoice: argument 'numExperts' expected an integer >= 1, got 0"],
      [{ numExperts: 3, k: 4 }, "TopKChoice: argument 'k' expected an integer in [1, 3], got 4"],
      [{ numExperts: 3, gating: 'relu' }, "TopKChoice: argument 'gating' expected one of 'softmax' | 'sigmoid', got 'relu'"],
      [{ numExperts: 3, gates: 'top1' }, "TopKChoice: argument 'gates' expected one of 'topKSoftmax' | 'softmax', got 'top1'"],
      [{ numExperts: 3, gating: 'sigmoid', gates: 'softmax' }, "TopKChoice: argument 'gates' expected no value with gating 'sigmoid'"],
      [{ numExperts: 3, biasUpdateRate: -1e-3 }, "TopKChoice: argument 'biasUpdateRate' expected a finite number ≥ 0, got -0.001"],
      [{ numExperts: 3, loadBalancingWeight: Number.POSITIVE_INFINITY }, "TopKChoice: argument 'loadBalancingWeight' expected a finite number ≥ 0, got Infinity"],
      [{ numExperts: 3, biasUpdateRate: 1e-3, expertBias: [0, 0] }, "AuxLossFreeBias: argument 'initial' expected 3 numbers (one per expert), got 2 numbers"],
      [{ numExperts: 3, expertBias: [0, Number.NaN, 0] }, "AuxLossFreeBias: argument 'initial[1]' expected a finite number, got NaN"],
      [{ numExperts: 3, topK: 2 }, "TopKChoice: argument 'topK' expected one of the known options"],
    ];
    for (const [args, message] of cases) {
      const attempt = () => new TopKChoice(args as unknown as TopKChoiceArgs);
      expect(attempt).toThrow(MoEArgumentError);
      expect(attempt).toThrow(message);
    }
    const algorithm = new TopKChoice({ numExperts: 3 });
    const wrong = tf.zeros([4, 5]) as tf.Tensor2D;
    expect(() => algorithm.route(wrong, { training: false })).toThrow("TopKChoice.route: argument 'logits' expected shape [4, 3], got shape [4, 5]");
    wrong.dispose();
  });

  it('saves and loads through the registry, the current bias with it; the bias is its non-trainable variable `bias`', () => {
    const algorithm = new TopKChoice({ numExperts: 3, k: 1, gating: 'sigmoid', biasUpdateRate: 0.25 });
    const logits = tf.tensor2d([[2, 0, 0], [1, 0, 0]]);
    release(algorithm.route(logits, { training: true })); // both tokens choose expert 0: load [2, 0, 0], mean 2/3 → b = [-0.25, 0.25, 0.25]
    expect(algorithm.namedVariables().map(([name, v]) => [name, v.trainable])).toEqual([['bias', false]]);
    expect(algorithm.trainableVariables).toEqual([]);
    const saved = componentConfig(algorithm, 'test', 'algorithm');
    expect(saved).toEqual({ className: 'TopKChoice', package: '@moekit/router-topk', config: { numExperts: 3, k: 1, gating: 'sigmoid', loadBalancingWeight: 0, loadBalancingConvention: 'switch', loadBalancingGroups: 1, biasUpdateRate: 0.25, expertBias: [-0.25, 0.25, 0.25] } });
    const loaded = fromComponentConfig<TopKChoice>(saved, 'test', 'algorithm');
    expect(Array.from(loaded.expertBias!.dataSync())).toEqual([-0.25, 0.25, 0.25]);
    expect(loaded.getConfig()).toEqual(algorithm.getConfig());
    logits.dispose();
    algorithm.dispose();
    loaded.dispose();
  });

  it('throws MoEDisposedError when used after dispose', () => {
    const algorithm = new TopKChoice({ numExperts: 3, gating: 'sigmoid', biasUpdateRate: 1e-3 });
    algorithm.dispose();
    const logits = tf.zeros([2, 3]) as tf.Tensor2D;
    expect(() => algorithm.route(logits, { training: true })).toThrow(MoEDisposedError);
    expect(() => algorithm.route(logits, { training: true })).toThrow('TopKChoice.route');
    expect(() => algorithm.expertBias).toThrow(MoEDisposedError);
    expect(() => algorithm.getConfig()).toThrow(MoEDisposedError);
    expect(algorithm.nonTrainableVariables).toEqual([]);
    logits.dispose();
  });

  it('round-trips through getConfig / fromConfig and is registered', () => {
    const algorithm = new TopKChoice({ numExperts: 4, k: 1, gates: 'softmax', loadBalancingWeight: 0.1 });
    expect(algorithm.getConfig()).toEqual({ numExperts: 4, k: 1, gating: 'softmax', gates: 'softmax', loadBalancingWeight: 0.1, loadBalancingConvention: 'switch', loadBalancingGroups: 1, biasUpdateRate: 0 });
    const copy = TopKChoice.fromConfig(TopKChoice, algorithm.getConfig()) as TopKChoice;
    expect(copy.getConfig()).toEqual(algorithm.getConfig());
    expect(copy.expertBias).toBeUndefined();
    expect(copy.nonTrainableVariables).toEqual([]);
    expect(tf.serialization.SerializationMap.getMap().classNameMap['TopKChoice']).toBeDefined();
    algorithm.dispose();
    copy.dispose();
  });
});
