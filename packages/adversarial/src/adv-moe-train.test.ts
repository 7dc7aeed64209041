import * as tf from '@tensorflow/tfjs';
import { expectNoLeakedTensors } from '@moekit/core/testing';
import { describe, expect, it } from 'vitest';
import { advMoETrain } from './adv-moe-train.js';
import { adversarialTrain } from './adversarial-train.js';
import { crossEntropy } from './cross-entropy.js';
import { moeCnn } from './moe-cnn.fixture.js';
import type { AdvMoEModel } from './adv-moe-model.js';

const images = tf.randomUniform([10, 8, 8, 1], 0, 1, 'float32', 11);
const labels = tf.tensor1d([0, 1, 2, 3, 4, 5, 6, 7, 8, 9], 'int32');
const data = { images, labels };
const attack = { epsilon: 0.2, steps: 2 };
const snapshot = (vars: tf.Variable[]) => vars.map((v) => Array.from(v.dataSync()));

/** A model whose router scores are one bias `b` `[E]` for every image and whose logits are `x·W` with `W` `[64, 10]` zero. */
function constantRouterModel(bias: number[]): AdvMoEModel {
  const b = tf.variable(tf.tensor1d(bias));
  const w = tf.variable(tf.zeros([64, 10]));
  return {
    forward: (x) => tf.tidy(() => {
      const B = x.shape[0]!;
      const routerScores = tf.tile(tf.reshape(b, [1, -1]), [B, 1]) as tf.Tensor2D; // [B, E]
      const logits = tf.matMul(tf.reshape(x, [B, 64]) as tf.Tensor2D, w as tf.Tensor2D) as tf.Tensor2D; // [B, 10]
      return { logits, routerScores, expertIndex: tf.argMax(routerScores, 1) as tf.Tensor1D };
    }),
    routerVariables: [b],
    expertVariables: [w],
  };
}

describe('advMoETrain', () => {
  it('the expert step leaves the router bit-identical (router learning rate 0) and changes the experts', () => {
    const model = moeCnn({ imageSize: 8, seed: 2 });
    const router = snapshot(model.routerVariables);
    const experts = snapshot(model.expertVariables);
    advMoETrain(model, data, { attack, batchSize: 5, expertLearningRate: 0.01, routerLearningRate: 0 });
    expect(snapshot(model.routerVariables)).toEqual(router);
    expect(snapshot(model.expertVariables)).not.toEqual(experts);
    model.dispose();
  });

  it('the router step leaves experts and backbone bit-identical (expert learning rate 0) and changes the router', () => {
    const model = moeCnn({ imageSize: 8, seed: 2 });
    const router = snapshot(model.routerVariables);
    const experts = snapshot(model.expertVariables);
    advMoETrain(model, data, { attack, batchSize: 5, expertLearningRate: 0, routerLearningRate: 0.01 });
    expect(snapshot(model.expertVariables)).toEqual(experts);
    expect(snapshot(model.routerVariables)).not.toEqual(router);
    model.dispose();
  });

  it('reports progress and per-step metrics', () => {
    const model = moeCnn({ imageSize: 8, seed: 3 });
    const seen: number[] = [];
    const { history } = advMoETrain(model, data, { attack, epochs: 2, batchSize: 4, beta: 6, seed: 1, onStep: (m) => seen.push(m.step) });
    // ceil(10 / 4) = 3 batches per epoch, 2 epochs
    expect(seen).toEqual([1, 2, 3, 4, 5, 6]);
    expect(history.map((m) => [m.epoch, m.batch, m.totalSteps])).toEqual([[0, 0, 6], [0, 1, 6], [0, 2, 6], [1, 0, 6], [1, 1, 6], [1, 2, 6]]);
    for (const m of history) {
      expect(m.expertLoss).toBeCloseTo(m.cleanLoss + 6 * m.robustLoss, 4); // TRADES total = CE + β·KL
      expect(m.robustLoss).toBeGreaterThanOrEqual(-1e-6);
      expect(m.routerLoss).toBeGreaterThan(0);
      for (const a of [m.routerAgreement, m.routerStepAgreement]) {
        expect(a).toBeGreaterThanOrEqual(0);
        expect(a).toBeLessThanOrEqual(1);
      }
    }
    // batch of 4: agreement is a multiple of 1/4; the last batch holds 2 images: a multiple of 1/2
    expect((history[0]!.routerAgreement * 4) % 1).toBe(0);
    expect((history[2]!.routerAgreement * 2) % 1).toBe(0);
    model.dispose();
  });

  it('routerLabelWeight adds γ · CE(r(x), y mod E) to the router loss', () => {
    const model = moeCnn({ imageSize: 8, seed: 2 });
    const frozen = { attack, batchSize: 10, shuffle: false, seed: 3, expertLearningRate: 0, routerLearningRate: 0 };
    const without = advMoETrain(model, data, frozen).history[0]!.routerLoss;
    const withSupervision = advMoETrain(model, data, { ...frozen, routerLabelWeight: 2 }).history[0]!.routerLoss;
    // labels 0…9 mod 4 = [0, 1, 2, 3, 0, 1, 2, 3, 0, 1]; nothing trained (learning rates 0), so the same x'_R both times
    const routerScores = model.forward(images, true).routerScores;
    const supervision = crossEntropy(routerScores, tf.tensor1d([0, 1, 2, 3, 0, 1, 2, 3, 0, 1], 'int32')).dataSync()[0]!;
    expect(withSupervision - without).toBeCloseTo(2 * supervision, 4);
    expect(supervision).toBeGreaterThan(0);
    model.dispose();
  });

  it("routerLoss 'reference' is the reference code's γ·CE(r(x), y mod E) + α·KL(r(x) ‖ r(x')) over the router's scores only", () => {
    // E = 2; the router's scores are its bias b = [ln 3, 0] for every image, so softmax r = [0.75, 0.25]
    // and KL(r(x) ‖ r(x')) = 0 under any attack; labels [0, 1, 2, 3] mod 2 = [0, 1, 0, 1]
    const tiny = constantRouterModel([Math.log(3), 0]);
    const four = { images: tf.slice(images, 0, 4), labels: tf.tensor1d([0, 1, 2, 3], 'int32') };
    const router = tf.train.sgd(0.1);
    const { history } = advMoETrain(tiny, four, { attack, batchSize: 4, routerLoss: 'reference', routerOptimizer: router, expertLearningRate: 0 });
    // CE = −(ln 0.75 + ln 0.25 + ln 0.75 + ln 0.25) / 4 = (0.287682 + 1.386294) / 2 = 0.836988; γ = 6 → 5.021929
    expect(history[0]!.routerLoss).toBeCloseTo(5.021929, 4);
    // ∂CE/∂b = mean(softmax − onehot) = [(−0.25 + 0.75 − 0.25 + 0.75) / 4, −0.25] = [0.25, −0.25]; b ← b − 0.1·6·∂CE/∂b
    expect(Array.from(tiny.routerVariables[0]!.dataSync())).toEqual([expect.closeTo(Math.log(3) - 0.15, 5), expect.closeTo(0.15, 5)]);
    // ours reads the model's TRADES loss too: larger by CE(f(x), y) ≥ 0, here ln 10 with zero logits
    const ours = advMoETrain(constantRouterModel([Math.log(3), 0]), four, { attack, batchSize: 4, expertLearningRate: 0, routerLearningRate: 0 }).history[0]!;
    expect(ours.routerLoss).toBeCloseTo(Math.log(10), 4); // γ = 0 by default with 'trades'; KL terms 0 (zero head)
    expect(() => advMoETrain(tiny, four, { attack, routerLoss: 'ste' as never })).toThrow("advMoETrain: argument 'routerLoss' expected one of 'trades' | 'reference', got 'ste'");
    tf.dispose([four.images, four.labels, ...tiny.routerVariables, ...tiny.expertVariables]);
    router.dispose();
  });

  it('weightDecay λ adds λ·w to every gradient (one SGD step: w_λ − w_0 = −η·λ·w)', () => {
    const runOnce = (weightDecay: number) => {
      const model = moeCnn({ imageSize: 8, seed: 5 });
      const optimizer = tf.train.sgd(0.1);
      adversarialTrain(model, data, { attack, batchSize: 10, loss: 'trades', optimizer, weightDecay, shuffle: false, seed: 1 });
      const w = Array.from(model.expertVariables[0]!.dataSync());
      model.dispose();
      optimizer.dispose();
      return w;
    };
    const initial = moeCnn({ imageSize: 8, seed: 5 });
    const w0 = Array.from(initial.expertVariables[0]!.dataSync());
    initial.dispose();
    const plain = runOnce(0);
    const decayed = runOnce(0.01);
    decayed.forEach((w, i) => expect(w - plain[i]!).toBeCloseTo(-0.1 * 0.01 * w0[i]!, 5));
  });

  it("routerBalanceWeight adds w · Switch's E·Σ f_i·P_i of the clean batch to standard adversarial training's loss", () => {
    // b = [ln 3, 0]: every image to expert 0, f = [1, 0]; P = softmax(b) = [0.75, 0.25]; E·Σ f·P = 2 · 0.75 = 1.5
    const tiny = constantRouterModel([Math.log(3), 0]);
    const frozen = { attack, batchSize: 10, loss: 'trades' as const, learningRate: 0 };
    const plain = adversarialTrain(tiny, data, frozen).history[0]!.loss;
    const balanced = adversarialTrain(tiny, data, { ...frozen, routerBalanceWeight: 2 }).history[0]!.loss;
    expect(plain).toBeCloseTo(Math.log(10), 4); // zero head: CE = ln 10, KL = 0
    expect(balanced - plain).toBeCloseTo(2 * 1.5, 4);
    tf.dispose([...tiny.routerVariables, ...tiny.expertVariables]);
  });

  it('adversarialTrain accepts a dense model (no router variables); advMoETrain does not', () => {
    const dense = constantRouterModel([0, 0]);
    const noRouter = { ...dense, routerVariables: [] };
    const { history } = adversarialTrain(noRouter, data, { attack, batchSize: 10, loss: 'trades' });
    expect(history).toHaveLength(1);
    expect(() => advMoETrain(noRouter, data, { attack })).toThrow("advMoETrain: argument 'model.routerVariables' expected a non-empty array of variables, got ");
    tf.dispose([...dense.routerVariables, ...dense.expertVariables]);
  });

  it('standard adversarial training moves router and experts together with one optimiser', () => {
    const model = moeCnn({ imageSize: 8, seed: 4 });
    const router = snapshot(model.routerVariables);
    const experts = snapshot(model.expertVariables);
    const { history } = adversarialTrain(model, data, { attack, batchSize: 5, learningRate: 0.01, loss: 'trades' });
    expect(history).toHaveLength(2);
    expect(history[0]!.loss).toBeCloseTo(history[0]!.cleanLoss + 6 * history[0]!.robustLoss, 4);
    expect(snapshot(model.routerVariables)).not.toEqual(router);
    expect(snapshot(model.expertVariables)).not.toEqual(experts);
    model.dispose();
  });

  it('rejects bad input by name', () => {
    const model = moeCnn({ imageSize: 8, seed: 2 });
    expect(() => advMoETrain(model, data, { attack: { epsilon: -0.1 } })).toThrow("advMoETrain: argument 'attack.epsilon' expected a finite number >= 0, got -0.1");
    expect(() => advMoETrain(model, data, { attack: { epsilon: 0.1, steps: 0 } })).toThrow("advMoETrain: argument 'attack.steps' expected an integer >= 1, got 0");
    const bright = tf.mul(images, 2);
    expect(() => advMoETrain(model, { images: bright, labels }, { attack })).toThrow(/advMoETrain: argument 'data.images' expected values in the declared input range \[0, 1\], got values in \[0\.0\d+, 1\.9\d+\]/);
    expect(() => adversarialTrain(model, { images: bright, labels }, { attack })).toThrow("adversarialTrain: argument 'data.images' expected values in the declared input range [0, 1]");
    expect(() => advMoETrain(model, { images, labels: tf.tensor1d([1, 2], 'int32') }, { attack })).toThrow("advMoETrain: argument 'data.labels' expected length 10 (one per image), got length 2");
    expect(() => advMoETrain({ ...model, expertVariables: [...model.expertVariables, model.routerVariables[0]!] }, data, { attack })).toThrow("advMoETrain: argument 'model.expertVariables' expected no variable of model.routerVariables (disjoint parameter groups)");
    expect(() => advMoETrain(model, data, { attack, batchSize: 0 })).toThrow("advMoETrain: argument 'batchSize' expected an integer >= 1, got 0");
    expect(() => adversarialTrain(model, data, { attack, loss: 'hinge' as never })).toThrow("adversarialTrain: argument 'loss' expected one of 'crossEntropy' | 'trades', got 'hinge'");
    bright.dispose();
    model.dispose();
  });

  it('leaks no tensors', async () => {
    const model = moeCnn({ imageSize: 8, seed: 2 });
    await expectNoLeakedTensors(() => {
      advMoETrain(model, data, { attack, batchSize: 5 });
      adversarialTrain(model, data, { attack, batchSize: 5 });
    });
    model.dispose();
  });
});
