import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { MoEArgumentError, MixtureOfExperts } from '@moekit/core';
import { expectNoLeakedTensors, FixedRouter, LinearExpertBank, LinearTopKRouter } from '@moekit/core/testing';
import { FeedForwardExperts } from '@moekit/experts-ffn';
import { SwitchRouter } from '@moekit/router-switch';
import { expertWeightNorms } from './expert-weight-norms.js';
import { randomScores } from './random-scores.js';
import { routerChangeScores } from './router-change-scores.js';
import { importanceScores, loadScores } from './routing-scores.js';

/** A LinearTopKRouter `[Dg = 2, E = 3]` with the given kernel. */
function routerWith(kernel: number[][]): LinearTopKRouter {
  const router = new LinearTopKRouter({ inputDim: 2, numExperts: 3 });
  router.kernel.assign(tf.tensor2d(kernel));
  return router;
}

describe('routerChangeScores (Chowdhury et al. 2024)', () => {
  it('is the signed change of each router column l2 norm, not its absolute value nor the norm of the change', () => {
    // W0 columns (3, 4), (0, 1), (1, 0): norms 5, 1, 1
    // WT columns (0.6, 0.8), (0, 2), (-2, 0): norms 1, 2, 2
    // Δ = ‖w^(T)‖ − ‖w^(0)‖ = [1 − 5, 2 − 1, 2 − 1] = [−4, 1, 1]
    // (|Δ| would be [4, 1, 1]; ‖w^(T) − w^(0)‖ = [‖(−2.4, −3.2)‖, ‖(0, 1)‖, ‖(−3, 0)‖] = [4, 1, 3])
    const pretrained = routerWith([[3, 0, 1], [4, 1, 0]]);
    const finetuned = routerWith([[0.6, 0, -2], [0.8, 2, 0]]);
    const scores = routerChangeScores(pretrained, finetuned);
    expect(scores.map((s) => Number(s.toFixed(5)))).toEqual([-4, 1, 1]);
    pretrained.dispose();
    finetuned.dispose();
  });

  it('rejects routers of different shapes or without gate weights, by name', () => {
    const a = new LinearTopKRouter({ inputDim: 2, numExperts: 3 });
    const b = new LinearTopKRouter({ inputDim: 2, numExperts: 4 });
    const c = new SwitchRouter({ numExperts: 3, inputDim: 5 });
    expect(() => routerChangeScores(a, b)).toThrow("routerChangeScores: argument 'finetunedRouter' expected gate weights of the pretrained router's shape [2, 3] [Dg, E], got shape [2, 4]");
    expect(() => routerChangeScores(a, c)).toThrow("got shape [5, 3]");
    const fixed = new FixedRouter({ expertIndex: [[0]], probs: [[1, 0, 0]] });
    expect(() => routerChangeScores(fixed, a)).toThrow("routerChangeScores: argument 'pretrainedRouter' expected a component with the 'gateWeights' capability, got FixedRouter (capabilities: none)");
    expect(() => routerChangeScores(a, fixed)).toThrow(MoEArgumentError);
    tf.dispose([a, b, c].flatMap((r) => r.trainableVariables));
  });

  it('leaks nothing, also when it throws', async () => {
    const a = new LinearTopKRouter({ inputDim: 2, numExperts: 3 });
    const b = new LinearTopKRouter({ inputDim: 2, numExperts: 4 });
    await expectNoLeakedTensors(() => {
      routerChangeScores(a, a);
      expect(() => routerChangeScores(a, b)).toThrow(MoEArgumentError);
    });
    a.dispose();
    b.dispose();
  });
});

describe('baseline scores', () => {
  it('loadScores counts the tokens choosing each expert; importanceScores sums their gates (Shazeer Eq. 6)', async () => {
    // 4 tokens, E = 3, top-1 choices 0, 2, 2, 0: load = [2, 0, 2]
    // importance = column sums of probs = [0.7 + 0.1 + 0.2 + 0.5, 0.2 + 0.3 + 0.1 + 0.1, 0.1 + 0.6 + 0.7 + 0.4] = [1.5, 0.7, 1.8]
    const router = new FixedRouter({ expertIndex: [[0], [2], [2], [0]], probs: [[0.7, 0.2, 0.1], [0.1, 0.3, 0.6], [0.2, 0.1, 0.7], [0.5, 0.1, 0.4]] });
    const moe = new MixtureOfExperts({ router, experts: LinearExpertBank.identity(3, 2), capacity: { eval: 0.5 } });
    const x = tf.ones([4, 2]);
    expect(loadScores(moe, x)).toEqual([2, 0, 2]); // counted before capacity: C = 1 here keeps only 1 each
    expect(importanceScores(moe, x).map((v) => Number(v.toFixed(5)))).toEqual([1.5, 0.7, 1.8]);
    await expectNoLeakedTensors(() => {
      loadScores(moe, x);
      importanceScores(moe, x);
    });
    expect(() => loadScores(moe, tf.ones([4]))).toThrow("loadScores: argument 'calibration' expected rank >= 2, got rank 1");
    x.dispose();
    moe.dispose();
  });

  it('expertWeightNorms is the l2 norm of each expert over all its parameters', () => {
    // expert 0: √(1 + 4 + 4 + 0) = 3; expert 1: √(0 + 0 + 0 + 16) = 4
    const bank = new LinearExpertBank({ numExperts: 2, inputDim: 2, weights: [[[1, 2], [2, 0]], [[0, 0], [0, 4]]] });
    expect(expertWeightNorms(bank)).toEqual([3, 4]);
    bank.dispose();
    // FFN: w1 [E, D, H], b1 [E, 1, H], w2, b2 all count: set everything to 1 → √(2·3 + 3 + 3·2 + 2) = √17 per expert
    const ffn = new FeedForwardExperts({ numExperts: 2, inputDim: 2, hiddenDim: 3 });
    for (const v of ffn.trainableVariables) v.assign(tf.onesLike(v));
    expect(expertWeightNorms(ffn).map((v) => Number(v.toFixed(5)))).toEqual([Number(Math.sqrt(17).toFixed(5)), Number(Math.sqrt(17).toFixed(5))]);
    ffn.dispose();
  });

  it('expertWeightNorms rejects a bank whose variables are not batched over the experts', () => {
    const bank = { numExperts: 2, trainableVariables: [tf.variable(tf.zeros([3, 2]))], apply: (x: tf.Tensor) => x, dispose() {} };
    expect(() => expertWeightNorms(bank)).toThrow(/argument 'experts' expected a batched bank: every variable \[E = 2, \.\.\.\], got variable '.*' of shape \[3, 2\]/);
    bank.trainableVariables[0]!.dispose();
  });

  it('randomScores are uniform in [0, 1), reproducible by seed', () => {
    const a = randomScores(6, 3);
    expect(a).toHaveLength(6);
    expect(a.every((v) => v >= 0 && v < 1)).toBe(true);
    expect(randomScores(6, 3)).toEqual(a);
    expect(randomScores(6, 4)).not.toEqual(a);
    expect(() => randomScores(0, 1)).toThrow("randomScores: argument 'numExperts' expected an integer >= 1, got 0");
  });
});
