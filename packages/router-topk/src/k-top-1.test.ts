import * as tf from '@tensorflow/tfjs';
import { componentConfig, fromComponentConfig, GatedRouter, LinearGate, MixtureOfExperts, MoEArgumentError, MoEDisposedError, type TokenChoiceOutput } from '@moekit/core';
import { expectNoLeakedTensors, LinearExpertBank } from '@moekit/core/testing';
import { describe, expect, it } from 'vitest';
import './register.js';
import { KTop1Choice, type KTop1ChoiceArgs } from './k-top-1.js';

function release(out: TokenChoiceOutput) {
  tf.dispose([out.logits, out.probs, out.expertIndex, ...Object.values(out.auxLosses)]);
}

function routeOnce(args: KTop1ChoiceArgs, logits: number[][]) {
  const algorithm = new KTop1Choice(args);
  const u = tf.tensor2d(logits);
  const out = algorithm.route(u, { training: true });
  const result = {
    expertIndex: out.expertIndex.arraySync() as number[][],
    probs: out.probs.arraySync() as number[][],
    loadBalancing: out.auxLosses['loadBalancing']!.dataSync()[0]!,
    total: out.auxLosses.total.dataSync()[0]!,
    dtype: out.expertIndex.dtype,
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

describe('KTop1Choice (M6-T expert prototyping; HetuMoE ktop1gating)', () => {
  it('takes the top-1 of each prototype with its within-prototype softmax gate (hand-computed)', () => {
    // E = 4, k = 2: prototype 0 = experts {0, 1}, prototype 1 = {2, 3}
    const r = routeOnce({ numExperts: 4, k: 2 }, [[1, 0, 0, 2], [0, 0, 3, 1]]);
    // row 0: softmax([1, 0]) = [0.731059, 0.268941] → expert 0; softmax([0, 2]) = [0.119203, 0.880797] → expert 3
    // row 1: softmax([0, 0]) = [0.5, 0.5] → expert 0 (tie: lower); softmax([3, 1]) = [0.880797, 0.119203] → expert 2
    expect(r.dtype).toBe('int32');
    expect(r.expertIndex).toEqual([[0, 3], [0, 2]]);
    expectClose(r.probs, [[0.731059, 0, 0, 0.880797], [0.5, 0, 0.880797, 0]]);
    // prototype 0: P = [(0.731059 + 0.5)/2, (0.268941 + 0.5)/2] = [0.615529, 0.384471], f = [1, 0] → 2 · 0.615529 = 1.231059
    // prototype 1: P = [0.5, 0.5], f = [0.5, 0.5] → 2 · 0.5 = 1; summed: 2.231059; total = 0.01 · 2.231059
    expect(r.loadBalancing).toBeCloseTo(2.231059, 5);
    expect(r.total).toBeCloseTo(0.02231059, 7);
  });

  it('with k = 1 is Switch top-1 with the full softmax gate; with k = E every expert is taken with gate 1', () => {
    const one = routeOnce({ numExperts: 3, k: 1 }, [[0, Math.log(3), 0]]);
    expect(one.expertIndex).toEqual([[1]]);
    expectClose(one.probs, [[0, 0.6, 0]]); // softmax [1, 3, 1] / 5
    const all = routeOnce({ numExperts: 3, k: 3, loadBalancingWeight: 0 }, [[5, -1, 2]]);
    expect(all.expertIndex).toEqual([[0, 1, 2]]);
    expect(all.probs).toEqual([[1, 1, 1]]);
    expect(all.total).toBe(0);
    expect(all.loadBalancing).toBeCloseTo(3, 6); // 3 prototypes of one expert, each 1 · 1 · 1
  });

  it('in a MixtureOfExperts sums one expert per prototype: y = Σ_g g_g · E_{i_g}(x)', () => {
    // experts e multiply by (e + 1): token [1] with logits [1, 0, 0, 2] → 0.731059 · 1 + 0.880797 · 4 = 4.254247
    const experts = new LinearExpertBank({ numExperts: 4, inputDim: 1, weights: [[[1]], [[2]], [[3]], [[4]]] });
    const gate = new LinearGate({ numOutputs: 4, inputDim: 1, kernelInitializer: 'zeros' });
    gate.build(1);
    gate.trainableVariables[0]!.assign(tf.tensor2d([[1, 0, 0, 2]])); // the [1, 4] kernel
    const moe = new MixtureOfExperts({ router: new GatedRouter({ gate, algorithm: new KTop1Choice({ numExperts: 4, k: 2 }) }), experts, capacity: { train: 0, eval: 0 } });
    const x = tf.tensor2d([[1]]);
    const out = moe.apply(x, { training: false });
    expect(out.output.dataSync()[0]).toBeCloseTo(4.254247, 5);
    tf.dispose([x, out.output, ...Object.values(out.auxLosses)]);
    moe.dispose();
  });

  it('routes without leaking; learns through the gates (finite, non-zero gradient)', async () => {
    const algorithm = new KTop1Choice({ numExperts: 6, k: 3 });
    const logits = tf.randomNormal([16, 6], 0, 1, 'float32', 3) as tf.Tensor2D;
    await expectNoLeakedTensors(() => release(algorithm.route(logits, { training: true })));
    const grad = tf.grad((l: tf.Tensor) => {
      const out = algorithm.route(l as tf.Tensor2D, { training: true });
      const loss = tf.add(tf.sum(out.probs), out.auxLosses.total);
      tf.dispose([out.logits, out.expertIndex]);
      return loss;
    })(logits);
    const values = Array.from(grad.dataSync());
    expect(values.every(Number.isFinite)).toBe(true);
    expect(values.some((v) => v !== 0)).toBe(true);
    tf.dispose([grad, logits]);
    algorithm.dispose();
  });

  it('rejects bad arguments by name; saves and loads through the registry; refuses use after dispose', () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ numExperts: 0 }, "KTop1Choice: argument 'numExperts' expected an integer >= 1, got 0"],
      [{ numExperts: 6, k: 4 }, "KTop1Choice: argument 'k' expected a divisor of numExperts (6), got 4"],
      [{ numExperts: 6, k: 8 }, "KTop1Choice: argument 'k' expected an integer in [1, 6], got 8"],
      [{ numExperts: 6, k: 2, loadBalancingWeight: -1 }, "KTop1Choice: argument 'loadBalancingWeight' expected a finite number ≥ 0, got -1"],
      [{ numExperts: 6, groups: 2 }, "KTop1Choice: argument 'groups' expected one of the known options"],
    ];
    for (const [args, message] of cases) {
      const attempt = () => new KTop1Choice(args as unknown as KTop1ChoiceArgs);
      expect(attempt).toThrow(MoEArgumentError);
      expect(attempt).toThrow(message);
    }
    const algorithm = new KTop1Choice({ numExperts: 6, k: 3, loadBalancingWeight: 0.1 });
    const saved = componentConfig(algorithm, 'test', 'algorithm');
    expect(saved).toEqual({ className: 'KTop1Choice', package: '@moekit/router-topk', config: { numExperts: 6, k: 3, loadBalancingWeight: 0.1 } });
    const loaded = fromComponentConfig<KTop1Choice>(saved, 'test', 'algorithm');
    expect(loaded.getConfig()).toEqual(algorithm.getConfig());
    const wrong = tf.zeros([2, 4]) as tf.Tensor2D;
    expect(() => algorithm.route(wrong, { training: false })).toThrow("KTop1Choice.route: argument 'logits' expected shape [2, 6], got shape [2, 4]");
    algorithm.dispose();
    expect(() => algorithm.route(wrong, { training: false })).toThrow(MoEDisposedError);
    wrong.dispose();
    loaded.dispose();
  });
});
