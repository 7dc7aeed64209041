import * as tf from '@tensorflow/tfjs';
import { EXCLUDED_LOGIT, MoEArgumentError, type TokenChoiceOutput } from '@moekit/core';
import { describe, expect, it } from 'vitest';
import './register.js';
import { AuxLossFreeBias } from './aux-loss-free-bias.js';
import { TopKChoice } from './top-k-choice.js';

function release(out: TokenChoiceOutput) {
  tf.dispose([out.logits, out.probs, out.expertIndex, ...Object.values(out.auxLosses)]);
}

const bias = (algorithm: TopKChoice) => Array.from(algorithm.expertBias!.dataSync());

describe('AuxLossFreeBias.update (Wang et al. 2024, Algorithm 1: b_i += u · sign(mean load − load_i))', () => {
  it('counts every choice, skips -1, and leaves a balanced expert alone (sign 0)', () => {
    const b = new AuxLossFreeBias({ numExperts: 3, updateRate: 0.5 });
    const chosen = tf.tensor2d([[0, -1], [0, 1]], [2, 2], 'int32');
    const load = b.load(chosen);
    expect(Array.from(load.dataSync())).toEqual([2, 1, 0]);
    b.update(chosen);
    // mean load = 3 / 3 = 1 → sign(1 − [2, 1, 0]) = [-1, 0, 1] → b = 0.5 · [-1, 0, 1]
    expect(b.values()).toEqual([-0.5, 0, 0.5]);
    tf.dispose([chosen, load]);
    b.dispose();
  });

  it('rejects a negative rate by name', () => {
    expect(() => new AuxLossFreeBias({ numExperts: 3, updateRate: -1 })).toThrow(MoEArgumentError);
    expect(() => new AuxLossFreeBias({ numExperts: 3, updateRate: -1 })).toThrow("AuxLossFreeBias: argument 'updateRate' expected a finite number >= 0, got -1");
  });
});

describe('TopKChoice with aux-loss-free balancing', () => {
  it('the bias changes the selection but not the gate values (Wang et al. Eq. 3, DeepSeek-V3 Eq. 16)', () => {
    const logits = tf.tensor2d([[0, Math.log(3), Math.log(1 / 3)]]); // s = σ(logits) = [0.5, 0.75, 0.25]
    const plain = new TopKChoice({ numExperts: 3, k: 2, gating: 'sigmoid' });
    const biased = new TopKChoice({ numExperts: 3, k: 2, gating: 'sigmoid', expertBias: [0, 0, 0.3] }); // a fixed bias (rate 0)
    const a = plain.route(logits, { training: true });
    const b = biased.route(logits, { training: true });
    // no bias: top-2 of s = {1, 0} → g = [0.5, 0.75] / 1.25 = [0.4, 0.6, 0]
    expect(a.expertIndex.arraySync()).toEqual([[1, 0]]);
    expect((a.probs.arraySync() as number[][])[0]!.map((g) => +g.toFixed(6))).toEqual([0.4, 0.6, 0]);
    // bias [0, 0, 0.3]: s + b = [0.5, 0.75, 0.55] → top-2 = {1, 2}; gates from the unbiased s:
    // g = [0.75, 0.25] / 1.0 = [0, 0.75, 0.25] (the biased scores would give [0, 0.576923, 0.423077])
    expect(b.expertIndex.arraySync()).toEqual([[1, 2]]);
    expect((b.probs.arraySync() as number[][])[0]!.map((g) => +g.toFixed(6))).toEqual([0, 0.75, 0.25]);
    expect(bias(biased)).toEqual([0, 0, 0.3].map(Math.fround)); // rate 0: fixed
    [a, b].forEach(release);
    logits.dispose();
    plain.dispose();
    biased.dispose();
  });

  it('after one training step the bias is u · sign(mean − load); evaluation does not update; each training call does', () => {
    // sigmoid affinities with wide margins (s ≈ 0.95 vs 0.05), so a bias of ±0.2 cannot change the choices
    const logits = tf.tensor2d([[3, -3, -3, -3], [-3, 3, -3, -3], [-3, -3, 3, -3], [-3, -3, 3, -3]]); // first choices 0, 1, 2, 2
    const algorithm = new TopKChoice({ numExperts: 4, k: 1, gating: 'sigmoid', biasUpdateRate: 0.1 });
    expect(bias(algorithm)).toEqual([0, 0, 0, 0]);
    release(algorithm.route(logits, { training: false }));
    expect(bias(algorithm)).toEqual([0, 0, 0, 0]);
    const first = algorithm.route(logits, { training: true });
    expect(first.expertIndex.arraySync()).toEqual([[0], [1], [2], [2]]); // selected with the bias before the update (zeros)
    // load = [1, 1, 2, 0], mean 1 → sign(1 − load) = [0, 0, -1, 1] → b = 0.1 · [0, 0, -1, 1]
    expect(bias(algorithm)).toEqual([0, 0, -0.1, 0.1].map(Math.fround));
    release(first);
    release(algorithm.route(logits, { training: true })); // a second call in the same step updates again
    expect(bias(algorithm).map((v) => +v.toFixed(6))).toEqual([0, 0, -0.2, 0.2]);
    logits.dispose();
    algorithm.dispose();
  });

  it('with k = 2 counts both choices: load [4, 3, 1, 0] → sign(2 − load) = [-1, -1, 1, 1]', () => {
    const logits = tf.tensor2d([[3, 2, -3, -3], [3, -3, 2, -3], [3, 2, -3, -3], [2, 3, -3, -3]]); // choices [0,1] [0,2] [0,1] [1,0]
    const algorithm = new TopKChoice({ numExperts: 4, k: 2, gating: 'sigmoid', biasUpdateRate: 1e-3 });
    const out = algorithm.route(logits, { training: true });
    expect(out.expertIndex.arraySync()).toEqual([[0, 1], [0, 2], [0, 1], [1, 0]]);
    expect(bias(algorithm)).toEqual([-1e-3, -1e-3, 1e-3, 1e-3].map(Math.fround));
    release(out);
    logits.dispose();
    algorithm.dispose();
  });

  it('works with softmax gating too: the bias is added to the softmax probabilities for selection', () => {
    const logits = tf.tensor2d([[Math.log(6), Math.log(3), Math.log(1)]]); // softmax = [0.6, 0.3, 0.1]
    const algorithm = new TopKChoice({ numExperts: 3, k: 1, gates: 'softmax', expertBias: [0, 0.35, 0] });
    const out = algorithm.route(logits, { training: false });
    // p + b = [0.6, 0.65, 0.1] → expert 1, whose gate is its unbiased probability 0.3
    expect(out.expertIndex.arraySync()).toEqual([[1]]);
    expect((out.probs.arraySync() as number[][])[0]!.map((g) => +g.toFixed(6))).toEqual([0.6, 0.3, 0.1]);
    release(out);
    logits.dispose();
    algorithm.dispose();
  });

  it('no bias chooses an excluded expert', () => {
    const logits = tf.tensor2d([[0, EXCLUDED_LOGIT, -1]]);
    const algorithm = new TopKChoice({ numExperts: 3, k: 1, gating: 'sigmoid', expertBias: [0, 100, 0] });
    const out = algorithm.route(logits, { training: false });
    expect(out.expertIndex.arraySync()).toEqual([[0]]);
    release(out);
    logits.dispose();
    algorithm.dispose();
  });

  it('saves the bias in getConfig (expertBias) and restores it with fromConfig', () => {
    const logits = tf.tensor2d([[3, -3, -3], [3, -3, -3]]);
    const algorithm = new TopKChoice({ numExperts: 3, k: 1, gating: 'sigmoid', biasUpdateRate: 0.25 });
    release(algorithm.route(logits, { training: true })); // load [2, 0, 0], mean 2/3 → b = 0.25 · [-1, 1, 1]
    expect(algorithm.getConfig()).toEqual({ numExperts: 3, k: 1, gating: 'sigmoid', loadBalancingWeight: 0, loadBalancingConvention: 'switch', loadBalancingGroups: 1, biasUpdateRate: 0.25, expertBias: [-0.25, 0.25, 0.25] });
    const restored = TopKChoice.fromConfig(TopKChoice, algorithm.getConfig()) as TopKChoice;
    expect(bias(restored)).toEqual([-0.25, 0.25, 0.25]);
    expect(restored.nonTrainableVariables).toHaveLength(1);
    expect(restored.expertBias!.trainable).toBe(false);
    expect(restored.getConfig()).toEqual(algorithm.getConfig());
    logits.dispose();
    algorithm.dispose();
    restored.dispose();
  });
});
