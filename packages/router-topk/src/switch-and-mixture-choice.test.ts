import * as tf from '@tensorflow/tfjs';
import { componentConfig, fromComponentConfig, MoEArgumentError, type TokenChoiceOutput } from '@moekit/core';
import { expectNoLeakedTensors } from '@moekit/core/testing';
import { describe, expect, it } from 'vitest';
import './register.js';
import { SwitchAndMixtureChoice, type SwitchAndMixtureChoiceArgs } from './switch-and-mixture-choice.js';

function release(out: TokenChoiceOutput) {
  tf.dispose([out.logits, out.probs, out.expertIndex, ...Object.values(out.auxLosses)]);
}

function routeOnce(args: SwitchAndMixtureChoiceArgs, probs: number[][]) {
  const algorithm = new SwitchAndMixtureChoice(args);
  const u = tf.tensor2d(probs.map((row) => row.map(Math.log))); // softmax(log p) = p when Σ p = 1
  const out = algorithm.route(u, { training: true });
  const result = {
    expertIndex: out.expertIndex.arraySync() as number[][],
    probs: out.probs.arraySync() as number[][],
    loadBalancing: out.auxLosses['loadBalancing']!.dataSync()[0]!,
    alignment: out.auxLosses['alignment']!.dataSync()[0]!,
    total: out.auxLosses.total.dataSync()[0]!,
  };
  release(out);
  u.dispose();
  algorithm.dispose();
  return result;
}

function expectClose(actual: number[][], expected: number[][], atol = 1e-6) {
  expect(actual.map((row) => row.length)).toEqual(expected.map((row) => row.length));
  actual.forEach((row, i) => row.forEach((v, j) => expect(Math.abs(v - expected[i]![j]!)).toBeLessThanOrEqual(atol)));
}

// E = 4 experts on G = 2 groups: {0, 1} and {2, 3}
const P = [
  [0.4, 0.05, 0.3, 0.25], // group sums 0.45 | 0.55 → group 1, although expert 0 is the best overall
  [0.1, 0.6, 0.2, 0.1], // group sums 0.7 | 0.3 → group 0
];

describe('SwitchAndMixtureChoice (HetuMoE SAM gate)', () => {
  it('k = 1: switches to the group of largest mass, then takes its best expert (hand-computed)', () => {
    const r = routeOnce({ numExperts: 4, numGroups: 2, k: 1 }, P);
    expect(r.expertIndex).toEqual([[2], [1]]);
    expectClose(r.probs, [[0, 0, 0.3, 0], [0, 0.6, 0, 0]]); // the full softmax's values, not renormalised
    // mean p = [0.25, 0.325, 0.25, 0.175], f = [0, 0.5, 0.5, 0] → 4 · (0.5 · 0.325 + 0.5 · 0.25) = 1.15
    expect(r.loadBalancing).toBeCloseTo(1.15, 5);
    // row 0: outside group 1, max(0, 0.4 − 0.3) + max(0, 0.05 − 0.3) = 0.1; row 1: 0.2, 0.1 < 0.6 → 0; mean 0.05
    expect(r.alignment).toBeCloseTo(0.05, 6);
    expect(r.total).toBeCloseTo(0.01 * 1.15 + 0.01 * 0.05, 7);
  });

  it('k = 2: the top-2 inside the group; the alignment threshold is the 2nd chosen gate', () => {
    const r = routeOnce({ numExperts: 4, numGroups: 2, k: 2, loadBalancingWeight: 1, alignmentWeight: 1 }, P);
    expect(r.expertIndex).toEqual([[2, 3], [1, 0]]);
    expectClose(r.probs, [[0, 0, 0.3, 0.25], [0.1, 0.6, 0, 0]]);
    // f_1 = [0, 0.5, 0.5, 0], f_2 = [0.5, 0, 0, 0.5]: Σ_i f_i = 0.5 everywhere → 4 · 0.5 · Σ mean p = 2
    expect(r.loadBalancing).toBeCloseTo(2, 5);
    // row 0: threshold 0.25 → max(0, 0.4 − 0.25) = 0.15; row 1: threshold 0.1 → max(0, 0.2 − 0.1) + 0 = 0.1; mean 0.125
    expect(r.alignment).toBeCloseTo(0.125, 6);
    expect(r.total).toBeCloseTo(2.125, 5);
  });

  it('with one group is flat top-k with a zero alignment loss', () => {
    const r = routeOnce({ numExperts: 4, numGroups: 1, k: 2 }, P);
    expect(r.expertIndex).toEqual([[0, 2], [1, 2]]);
    expect(r.alignment).toBe(0);
  });

  it('routes without leaking; the alignment loss pushes down the outside expert only', async () => {
    const algorithm = new SwitchAndMixtureChoice({ numExperts: 4, numGroups: 2, k: 1, loadBalancingWeight: 0, alignmentWeight: 1 });
    const logits = tf.tensor2d([P[0]!.map(Math.log)]);
    await expectNoLeakedTensors(() => release(algorithm.route(logits, { training: true })));
    const grad = tf.grad((l: tf.Tensor) => {
      const out = algorithm.route(l as tf.Tensor2D, { training: true });
      tf.dispose([out.logits, out.expertIndex, out.probs]);
      return out.auxLosses.total;
    })(logits);
    // alignment = p_0 − c (c constant): ∂/∂u_j = p_0·(δ_0j − p_j) → [0.4·0.6, −0.4·0.05, −0.4·0.3, −0.4·0.25]
    expectClose(grad.arraySync() as number[][], [[0.24, -0.02, -0.12, -0.1]], 1e-5);
    tf.dispose([grad, logits]);
    algorithm.dispose();
  });

  it('rejects bad arguments by name and round-trips through the registry', () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ numExperts: 6, numGroups: 4 }, "SwitchAndMixtureChoice: argument 'numGroups' expected a divisor of numExperts (6), got 4"],
      [{ numExperts: 6, numGroups: 3, k: 3 }, "SwitchAndMixtureChoice: argument 'k' expected an integer in [1, 2], got 3"],
      [{ numExperts: 6, numGroups: 3, alignmentWeight: -1 }, "SwitchAndMixtureChoice: argument 'alignmentWeight' expected a finite number ≥ 0, got -1"],
    ];
    for (const [args, message] of cases) {
      const attempt = () => new SwitchAndMixtureChoice(args as unknown as SwitchAndMixtureChoiceArgs);
      expect(attempt).toThrow(MoEArgumentError);
      expect(attempt).toThrow(message);
    }
    const algorithm = new SwitchAndMixtureChoice({ numExperts: 8, numGroups: 2, k: 2 });
    const saved = componentConfig(algorithm, 'test', 'algorithm');
    expect(saved).toEqual({ className: 'SwitchAndMixtureChoice', package: '@moekit/router-topk', config: { numExperts: 8, numGroups: 2, k: 2, loadBalancingWeight: 0.01, alignmentWeight: 0.01 } });
    const loaded = fromComponentConfig<SwitchAndMixtureChoice>(saved, 'test', 'algorithm');
    expect(loaded.getConfig()).toEqual(algorithm.getConfig());
    algorithm.dispose();
    loaded.dispose();
  });
});
