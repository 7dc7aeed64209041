import * as tf from '@tensorflow/tfjs';
import { componentConfig, EXCLUDED_LOGIT, fromComponentConfig, GatedRouter, hasCapability, MoEArgumentError, MoEDisposedError } from '@moekit/core';
import { expectNoLeakedTensors, expectTensorsClose } from '@moekit/core/testing';
import { describe, expect, it } from 'vitest';
import './register.js';
import { CosineGate, type CosineGateArgs } from './cosine-gate.js';
import { TopKChoice } from './top-k-choice.js';

// W_p = [[1, 0], [0, 2]] (x·W_p doubles the second feature); expert embeddings e_0 = [1, 0], e_1 = [0, 1],
// e_2 = [2, 2] (normalised to [0.707107, 0.707107]: only directions count)
const W_P = [[1, 0], [0, 2]];
const EMBEDDINGS = [[1, 0, 2], [0, 1, 2]]; // [d_e, E], one column per expert
const inputs = () => tf.tensor2d([[3, 2], [0, -1]]);

function gateWith(args: Partial<CosineGateArgs> = {}): CosineGate {
  const gate = new CosineGate({ numOutputs: 3, inputDim: 2, routingDim: 2, initialTemperature: 0.5, ...args });
  gate.trainableVariables[0]!.assign(tf.tensor2d(W_P));
  gate.trainableVariables[1]!.assign(tf.tensor2d(EMBEDDINGS));
  return gate;
}

describe('CosineGate scores (X-MoE §3: cos(W_p x, e_i) / τ)', () => {
  it('scores a hand example at τ = 0.5', () => {
    const gate = gateWith();
    const x = inputs();
    const { logits } = gate.scores(x, { training: true });
    // token 0: x·W_p = [3, 4], normalised [0.6, 0.8]; cos = [0.6, 0.8, (0.6 + 0.8)/√2 = 0.989949]; / 0.5
    // token 1: x·W_p = [0, -2], normalised [0, -1]; cos = [0, -1, -0.707107]; / 0.5
    expectTensorsClose(logits, [[1.2, 1.6, 1.979899], [0, -2, -1.414214]], { atol: 1e-5 });
    tf.dispose([logits, x]);
    gate.dispose();
  });

  it('scales by a fixed τ when the temperature is not learned, and clamps a learned τ at minTemperature', () => {
    const fixed = gateWith({ learnTemperature: false, initialTemperature: 0.1 });
    expect(fixed.trainableVariables).toHaveLength(2); // W_p, E_emb
    const x = inputs();
    const { logits } = fixed.scores(x, { training: false });
    expectTensorsClose(logits, [[6, 8, 9.899495], [0, -10, -7.071068]], { atol: 1e-4 }); // cos / 0.1
    const learned = gateWith();
    expect(learned.trainableVariables.map((v) => v.shape)).toEqual([[2, 2], [2, 3], []]);
    const tau = learned.temperature();
    expect(tau.dataSync()[0]).toBeCloseTo(0.5, 6); // exp(log 0.5)
    learned.trainableVariables[2]!.assign(tf.scalar(Math.log(1e-3)));
    const clamped = learned.temperature();
    expect(clamped.dataSync()[0]).toBeCloseTo(0.01, 7); // max(1e-3, minTemperature 0.01)
    tf.dispose([logits, x, tau, clamped]);
    fixed.dispose();
    learned.dispose();
  });

  it('gives excluded experts EXCLUDED_LOGIT', () => {
    const gate = gateWith();
    const x = inputs();
    const { logits } = gate.scores(x, { training: true, excludedExperts: [false, true, false] });
    expectTensorsClose(logits, [[1.2, EXCLUDED_LOGIT, 1.979899], [0, EXCLUDED_LOGIT, -1.414214]], { atol: 1e-5 });
    tf.dispose([logits, x]);
    gate.dispose();
  });

  it('initialises E_emb orthogonal with gain 0.32 (X-MoE reference code), d_e = 16 by default', () => {
    const gate = new CosineGate({ numOutputs: 4, inputDim: 8, seed: 3 });
    const [projection, embeddings] = gate.trainableVariables;
    expect(projection!.shape).toEqual([8, 16]);
    const gram = tf.matMul(embeddings!, embeddings!, true, false); // [E, E] eᵢ·eⱼ
    const c = 0.32 * 0.32; // orthogonal columns of norm 0.32
    expectTensorsClose(gram, [[c, 0, 0, 0], [0, c, 0, 0], [0, 0, c, 0], [0, 0, 0, c]], { atol: 1e-5 });
    gram.dispose();
    gate.dispose();
  });
});

describe('CosineGate for expert pruning', () => {
  it('gateWeights() = W_p · ê_i, the vectors whose dot product with x is the unnormalised score', () => {
    const gate = gateWith();
    const weights = gate.gateWeights();
    // [[1, 0], [0, 2]] · [[1, 0, 0.707107], [0, 1, 0.707107]]
    expectTensorsClose(weights, [[1, 0, 0.707107], [0, 2, 1.414214]], { atol: 1e-5 });
    weights.dispose();
    gate.dispose();
  });

  it('selectExperts keeps the chosen columns: its scores are the kept columns of the original', () => {
    const gate = gateWith();
    const kept = gate.selectExperts([2, 0]);
    expect(kept.numOutputs).toBe(2);
    const x = inputs();
    const { logits } = kept.scores(x, { training: false });
    expectTensorsClose(logits, [[1.979899, 1.2], [-1.414214, 0]], { atol: 1e-5 });
    expect(() => gate.selectExperts([0, 0])).toThrow("CosineGate.selectExperts: argument 'keep' expected distinct expert indices, got 0 twice in [0, 0]");
    tf.dispose([logits, x]);
    gate.dispose();
    kept.dispose();
  });
});

describe('CosineGate configuration', () => {
  it('rejects bad arguments with MoEArgumentError naming the argument', () => {
    const cases: [Partial<CosineGateArgs> & Record<string, unknown>, string][] = [
      [{ numOutputs: 0 }, "CosineGate: argument 'numOutputs' expected an integer >= 1, got 0"],
      [{ numOutputs: 4, routingDim: 2.5 }, "CosineGate: argument 'routingDim' expected an integer >= 1, got 2.5"],
      [{ numOutputs: 4, initialTemperature: 0 }, "CosineGate: argument 'initialTemperature' expected a finite number > 0, got 0"],
      [{ numOutputs: 4, minTemperature: Number.NaN }, "CosineGate: argument 'minTemperature' expected a finite number > 0, got NaN"],
      [{ numOutputs: 4, initialTemperature: 0.005 }, "CosineGate: argument 'initialTemperature' expected a number >= minTemperature (0.01), got 0.005"],
      [{ numOutputs: 4, learnTemperature: 'yes' as never }, "CosineGate: argument 'learnTemperature' expected a boolean, got 'yes'"],
      [{ numOutputs: 4, temperature: 0.1 }, "CosineGate: argument 'temperature' expected one of the known options"],
    ];
    for (const [args, message] of cases) {
      const attempt = () => new CosineGate(args as CosineGateArgs);
      expect(attempt).toThrow(MoEArgumentError);
      expect(attempt).toThrow(message);
    }
    const gate = new CosineGate({ numOutputs: 3, inputDim: 2 });
    const wide = tf.zeros([4, 5]) as tf.Tensor2D;
    expect(() => gate.scores(wide, { training: false })).toThrow("CosineGate.scores: argument 'gateInput' expected width 2 (the router's inputDim), got shape [4, 5]");
    expect(() => new CosineGate({ numOutputs: 3 }).gateWeights()).toThrow("CosineGate.gateWeights: argument 'this' expected a built CosineGate");
    wide.dispose();
    gate.dispose();
  });

  it('saves and loads through the registry, its weights named projection, embeddings and logTemperature', () => {
    const gate = new CosineGate({ numOutputs: 3, inputDim: 2, routingDim: 4, seed: 2 });
    const saved = componentConfig(gate, 'test', 'gate');
    expect(saved).toEqual({ className: 'CosineGate', package: '@moekit/router-topk', config: gate.getConfig() });
    const loaded = fromComponentConfig<CosineGate>(saved, 'test', 'gate');
    expect(loaded.getConfig()).toEqual(gate.getConfig());
    expect(loaded.namedVariables().map(([name, v]) => [name, v.shape])).toEqual([['projection', [2, 4]], ['embeddings', [4, 3]], ['logTemperature', []]]);
    gate.dispose();
    loaded.dispose();
  });

  it('throws MoEDisposedError when used after dispose, and releases W_p, E_emb and log τ', () => {
    const gate = new CosineGate({ numOutputs: 3, inputDim: 2, seed: 1 });
    const before = tf.memory().numTensors;
    gate.dispose();
    expect(tf.memory().numTensors).toBe(before - 3);
    const x = inputs();
    expect(() => gate.scores(x, { training: false })).toThrow(MoEDisposedError);
    expect(() => gate.scores(x, { training: false })).toThrow('CosineGate.scores');
    expect(() => gate.temperature()).toThrow(MoEDisposedError);
    expect(() => gate.gateWeights()).toThrow(MoEDisposedError);
    expect(() => gate.selectExperts([0])).toThrow(MoEDisposedError);
    x.dispose();
  });

  it('round-trips through getConfig / fromConfig, alone and inside a GatedRouter', () => {
    const gate = new CosineGate({ numOutputs: 4, routingDim: 8, initialTemperature: 0.2, seed: 5 });
    const copy = CosineGate.fromConfig(CosineGate, gate.getConfig()) as CosineGate;
    expect(copy.getConfig()).toEqual(gate.getConfig());
    expect(gate.getConfig()).toEqual({ numOutputs: 4, routingDim: 8, initialTemperature: 0.2, minTemperature: 0.01, learnTemperature: true, seed: 5 });
    const router = new GatedRouter({ gate, algorithm: new TopKChoice({ numExperts: 4, k: 2, gating: 'sigmoid', biasUpdateRate: 1e-3 }) });
    const restored = GatedRouter.fromConfig(GatedRouter, router.getConfig()) as GatedRouter;
    expect(restored.gate).toBeInstanceOf(CosineGate);
    expect(restored.algorithm).toBeInstanceOf(TopKChoice);
    expect(restored.getConfig()).toEqual(router.getConfig());
    expect(hasCapability(restored, 'excludedExperts')).toBe(true);
    router.dispose();
    restored.dispose();
    copy.dispose();
  });

  it('builds lazily from the first input and leaks nothing, in a GatedRouter with either gating', async () => {
    for (const gating of ['softmax', 'sigmoid'] as const) {
      const router = new GatedRouter({ gate: new CosineGate({ numOutputs: 4, seed: 1 }), algorithm: new TopKChoice({ numExperts: 4, k: 2, gating, biasUpdateRate: 0.01 }) });
      expect(router.trainableVariables).toHaveLength(0);
      const x = tf.randomNormal([16, 6], 0, 1, 'float32', 2) as tf.Tensor2D;
      for (const training of [true, false]) {
        await expectNoLeakedTensors(() => {
          const out = router.route(x, { training });
          tf.dispose([out.logits, out.probs, ...Object.values(out.auxLosses), ...('expertIndex' in out ? [out.expertIndex] : [])]);
        });
      }
      expect(router.trainableVariables.map((v) => v.shape)).toEqual([[6, 16], [16, 4], []]);
      const before = tf.memory().numTensors;
      router.dispose();
      expect(tf.memory().numTensors).toBe(before - 4); // W_p, E_emb, log τ and the algorithm's bias
      x.dispose();
    }
  });
});
