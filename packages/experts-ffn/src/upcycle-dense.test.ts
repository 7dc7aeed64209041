import * as tf from '@tensorflow/tfjs';
import { MixtureOfExperts } from '@moekit/core';
import { expectTensorsClose, FixedRouter, LinearTopKRouter } from '@moekit/core/testing';
import { describe, expect, it } from 'vitest';
import { upcycleDense } from './upcycle-dense.js';
import { SharedExpert } from './shared-expert.js';

function denseModel(activation: 'relu' | 'gelu' = 'relu') {
  const hidden = tf.layers.dense({ units: 6, activation, inputShape: [4], kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }), biasInitializer: tf.initializers.randomNormal({ seed: 2 }) });
  const output = tf.layers.dense({ units: 3, kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }), biasInitializer: tf.initializers.randomNormal({ seed: 4 }) });
  const model = tf.sequential({ layers: [hidden, output] });
  return { model, hidden, output };
}

describe('upcycleDense (sparse upcycling)', () => {
  it('copies the dense FFN into every expert: any router, no noise → the dense output', () => {
    const { model, hidden, output } = denseModel();
    const experts = upcycleDense([hidden, output], 4);
    const x = tf.randomNormal([12, 4], 0, 1, 'float32', 5);
    const dense = model.predict(x) as tf.Tensor;
    const routers = [new LinearTopKRouter({ inputDim: 4, numExperts: 4, k: 2, seed: 6 }), new LinearTopKRouter({ inputDim: 4, numExperts: 4, k: 1, seed: 7 })];
    for (const router of routers) {
      // combine weights summing to 1 over the kept choices, nothing dropped
      const moe = new MixtureOfExperts({ router, experts, capacity: { train: 0, eval: 0 }, renormalize: 'afterDrop' });
      const r = moe.apply(x, { training: false });
      expectTensorsClose(r.output, dense, { atol: 1e-5 });
      tf.dispose([r.output, ...Object.values(r.auxLosses)]);
      router.dispose();
    }
    tf.dispose([x, dense]);
    experts.dispose();
    model.dispose();
  });

  it('adds noise to each copy when asked', () => {
    const { model, hidden, output } = denseModel('gelu');
    const experts = upcycleDense([hidden, output], 3, { noise: 0.01, seed: 8 });
    expect(experts.config.activation).toBe('gelu');
    const [a, b] = tf.unstack(experts.weights.w1);
    const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(a!, b!))).dataSync()[0]!);
    expect(diff).toBeGreaterThan(0);
    expect(diff).toBeLessThan(0.1);
    tf.dispose([a!, b!]);
    experts.dispose();
    model.dispose();
  });

  it('rejects layers it cannot copy', () => {
    const { model, hidden } = denseModel();
    const tanh = tf.layers.dense({ units: 6, activation: 'tanh', inputShape: [4] });
    const second = tf.layers.dense({ units: 3 });
    tf.sequential({ layers: [tanh, second] });
    expect(() => upcycleDense([tanh, second], 2)).toThrow("upcycleDense: argument 'denseLayers[0].activation' expected one of relu | gelu | swish, got 'tanh'");
    expect(() => upcycleDense([hidden] as never, 2)).toThrow("upcycleDense: argument 'denseLayers' expected two built tf.layers.dense layers");
    expect(() => upcycleDense([hidden, second], 2, { noise: -1 })).toThrow("upcycleDense: argument 'options.noise' expected a number >= 0, got -1");
    model.dispose();
  });
});

describe('SharedExpert', () => {
  it("adds a dense FFN's output to the routed experts' for every token", () => {
    const shared = new SharedExpert({ inputDim: 2, hiddenDim: 3, seed: 9 });
    const experts = upcycleDense(((): [tf.layers.Layer, tf.layers.Layer] => {
      const h = tf.layers.dense({ units: 3, activation: 'relu', inputShape: [2] });
      const o = tf.layers.dense({ units: 2 });
      tf.sequential({ layers: [h, o] });
      return [h, o];
    })(), 2);
    const router = new FixedRouter({ probs: [[1, 0], [0, 1], [1, 0]], expertIndex: [[0], [1], [-1]] });
    const x = tf.randomNormal([3, 2], 0, 1, 'float32', 10);
    const moe = new MixtureOfExperts({ router, experts, shared });
    const plain = new MixtureOfExperts({ router, experts });
    const withShared = moe.apply(x, { training: false });
    const without = plain.apply(x, { training: false });
    const expected = tf.add(without.output, shared.apply(x, { training: false }));
    expectTensorsClose(withShared.output, expected, { atol: 1e-6 });
    // token 2 has no routed expert: it gets the shared branch alone
    expect(moe.trainableVariables).toHaveLength(router.trainableVariables.length + experts.trainableVariables.length + shared.trainableVariables.length);
    expect(() => new SharedExpert({ numExperts: 2, inputDim: 2, hiddenDim: 3 } as never)).toThrow("SharedExpert: argument 'numExperts' expected absent (a shared expert is one FFN), got 2");
    tf.dispose([x, withShared.output, without.output, expected, ...Object.values(withShared.auxLosses), ...Object.values(without.auxLosses)]);
    moe.dispose();
  });
});
