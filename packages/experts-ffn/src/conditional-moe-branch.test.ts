import * as tf from '@tensorflow/tfjs';
import { MixtureOfExperts, MoEArgumentError } from '@moekit/core';
import { expectNoLeakedTensors, expectTensorsClose, LinearTopKRouter } from '@moekit/core/testing';
import { MoELayer } from '@moekit/layers';
import { describe, expect, it } from 'vitest';
import './register.js';
import { ConditionalMoEBranch } from './conditional-moe-branch.js';
import { FeedForwardExperts } from './feed-forward-experts.js';

/** A branch for D = 2 whose FFN is relu(x) (identity kernels, zero biases) and whose gate is σ(x0 − x1). */
function handBranch(args: Partial<ConstructorParameters<typeof ConditionalMoEBranch>[0]> = {}): ConditionalMoEBranch {
  const branch = new ConditionalMoEBranch({ inputDim: 2, hiddenDim: 2, ...args });
  const named = new Map(branch.namedVariables());
  named.get('wg')!.assign(tf.tensor2d([[1], [-1]]));
  named.get('bg')!.assign(tf.tensor1d([0]));
  named.get('ffn/w1')!.assign(tf.tensor3d([[[1, 0], [0, 1]]]));
  named.get('ffn/w2')!.assign(tf.tensor3d([[[1, 0], [0, 1]]]));
  named.get('ffn/b1')!.assign(tf.zeros([1, 1, 2]));
  named.get('ffn/b2')!.assign(tf.zeros([1, 1, 2]));
  return branch;
}

const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));

describe('ConditionalMoEBranch', () => {
  it('mixes the dense FFN and the MoE by the learned gate (hand-computed)', () => {
    const branch = handBranch({ budget: 0.25, budgetWeight: 0.5 });
    const x = tf.tensor2d([[1, 0], [0, 1], [2, 2]]);
    const routed = tf.fill([3, 2], 10);
    const { output, auxLosses } = branch.mix(x, routed, { training: true });
    // g = σ(x0 − x1) = σ(1), σ(−1), σ(0) = 0.7311, 0.2689, 0.5; FFN(x) = relu(x) = x
    // t0 = 0.2689·[1, 0] + 0.7311·10 = [7.5800, 7.3106];  t1 = 0.7311·[0, 1] + 2.6894 = [2.6894, 3.4205];  t2 = 0.5·[2, 2] + 5 = [6, 6]
    const g = [sigmoid(1), sigmoid(-1), 0.5];
    expectTensorsClose(output, [[(1 - g[0]!) + 10 * g[0]!, 10 * g[0]!], [10 * g[1]!, (1 - g[1]!) + 10 * g[1]!], [6, 6]]);
    // budget: |mean g − 0.25| = |1.5 / 3 − 0.25| = 0.25 (σ(1) + σ(−1) = 1); total 0.5 · 0.25
    expectTensorsClose(auxLosses.cmrBudget!, 0.25);
    expectTensorsClose(auxLosses.total, 0.125);
    tf.dispose([x, routed, output, ...Object.values(auxLosses)]);
    branch.dispose();
  });

  it('reaches the gate weights with the gradient (hand-computed)', () => {
    const branch = handBranch();
    const x = tf.tensor2d([[1, 0], [0, 1], [2, 2]]);
    const routed = tf.fill([3, 2], 10);
    const [wg, bg] = [branch.namedVariables().find(([n]) => n === 'wg')![1], branch.namedVariables().find(([n]) => n === 'bg')![1]];
    const { grads, value } = tf.variableGrads(() => {
      const { output, auxLosses } = branch.mix(x, routed, { training: false });
      tf.dispose(Object.values(auxLosses));
      return tf.sum(output) as tf.Scalar;
    }, [wg, bg]);
    // ∂Σy/∂g_t = Σ_f (routed − FFN) = 19, 19, 16; ∂g/∂z = g(1 − g) = 0.19661, 0.19661, 0.25
    // ∂/∂wg = [1, 0]·19·0.19661 + [0, 1]·19·0.19661 + [2, 2]·16·0.25 = [11.7356, 11.7356]; ∂/∂bg = 2·3.7356 + 4 = 11.4712
    const s = sigmoid(1) * (1 - sigmoid(1)) * 19;
    expectTensorsClose(grads[wg.name]!, [[s + 8], [s + 8]]);
    expectTensorsClose(grads[bg.name]!, [2 * s + 4]);
    tf.dispose([x, routed, value, ...Object.values(grads)]);
    branch.dispose();
  });

  it('drops the gate in training (kept gates divided by 1 − p) and never at evaluation', () => {
    const branch = handBranch({ gateDropout: 0.5, seed: 3 });
    const x = tf.tensor2d(Array.from({ length: 64 }, () => [0, 0])); // g = 0.5 everywhere; FFN = 0
    const routed = tf.ones([64, 2]);
    const train = branch.mix(x, routed, { training: true });
    const values = new Set(Array.from(train.output.dataSync()).map((v) => v.toFixed(4)));
    expect(values).toEqual(new Set(['0.0000', '1.0000'])); // g dropped → 0·routed; kept → (0.5 / 0.5)·routed
    const evaluation = branch.mix(x, routed, { training: false });
    expectTensorsClose(evaluation.output, tf.fill([64, 2], 0.5));
    tf.dispose([x, routed, train.output, evaluation.output, ...Object.values(train.auxLosses), ...Object.values(evaluation.auxLosses)]);
    branch.dispose();
  });

  it('runs inside MixtureOfExperts (mix, budget loss in the aux losses) without leaks', async () => {
    await expectNoLeakedTensors(() => {
      const moe = new MixtureOfExperts({
        router: new LinearTopKRouter({ inputDim: 4, numExperts: 2, k: 1, seed: 1, balanceWeight: 0 }),
        experts: new FeedForwardExperts({ numExperts: 2, inputDim: 4, hiddenDim: 8, seed: 2 }),
        shared: new ConditionalMoEBranch({ hiddenDim: 8, seed: 3, budget: 0.5, budgetWeight: 0.1 }),
        capacity: { train: 0 },
      });
      const x = tf.randomNormal([6, 4], 0, 1, 'float32', 4);
      const r = moe.apply(x, { training: true });
      expect(r.output.shape).toEqual([6, 4]);
      expect(Object.keys(r.auxLosses)).toContain('cmrBudget');
      const budget = r.auxLosses.cmrBudget!.dataSync()[0]!;
      expectTensorsClose(r.auxLosses.total, 0.1 * budget); // the router's own total is 0 here
      tf.dispose([x, r.output, ...Object.values(r.auxLosses)]);
      moe.dispose();
    });
  });

  it('saves and loads with an MoELayer: config and weights', () => {
    const layer = new MoELayer({
      router: new LinearTopKRouter({ inputDim: 4, numExperts: 2, k: 1, seed: 1 }),
      experts: new FeedForwardExperts({ numExperts: 2, inputDim: 4, hiddenDim: 8, seed: 2 }),
      shared: new ConditionalMoEBranch({ hiddenDim: 8, seed: 3, gateDropout: 0.1 }),
      expertOutputMasking: { rate: 0.2, seed: 5 },
    });
    const x = tf.randomNormal([5, 4], 0, 1, 'float32', 6);
    const y = layer.apply(x) as tf.Tensor;
    expect(layer.trainableWeights.map((w) => w.name)).toEqual(expect.arrayContaining([expect.stringMatching(/shared\/wg$/), expect.stringMatching(/shared\/bg$/), expect.stringMatching(/shared\/ffn\/w1$/)]));
    const config = layer.getConfig();
    expect(config['expertOutputMasking']).toEqual({ rate: 0.2, seed: 5 });
    expect((config['shared'] as { className: string }).className).toBe('ConditionalMoEBranch');
    const copy = MoELayer.fromConfig(MoELayer, config) as MoELayer;
    const y2 = copy.apply(x) as tf.Tensor;
    copy.setWeights(layer.getWeights());
    const y3 = copy.apply(x) as tf.Tensor;
    expectTensorsClose(y3, y); // evaluation: same weights, same output (no masking, no gate dropout)
    expect(copy.moe.config.expertOutputMasking).toEqual({ rate: 0.2, seed: 5, scaling: 'inverted' });
    tf.dispose([x, y, y2, y3]);
  });

  it('rejects numExperts, bad gate options and mismatched mix inputs by name', () => {
    expect(() => new ConditionalMoEBranch({ hiddenDim: 4, numExperts: 2 } as never)).toThrow(MoEArgumentError);
    expect(() => new ConditionalMoEBranch({ hiddenDim: 4, gateDropout: 1 })).toThrow(/gateDropout/);
    expect(() => new ConditionalMoEBranch({ hiddenDim: 4, budget: 1.5 })).toThrow(/budget/);
    expect(() => new ConditionalMoEBranch({ hiddenDim: 4, budgetWeight: -1 })).toThrow(/budgetWeight/);
    const branch = handBranch();
    const [x3, x2, routed] = [tf.zeros([1, 3, 2]), tf.zeros([3, 2]), tf.zeros([4, 2])];
    expect(() => branch.mix(x3, routed, { training: false })).toThrow("ConditionalMoEBranch.mix: argument 'tokens' expected rank 2 [T, D]");
    expect(() => branch.mix(x2, routed, { training: false })).toThrow("ConditionalMoEBranch.mix: argument 'routed' expected 3 rows (the tokens')");
    tf.dispose([x3, x2, routed]);
    branch.dispose();
  });
});
