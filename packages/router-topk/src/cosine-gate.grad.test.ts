import * as tf from '@tensorflow/tfjs';
import { GatedRouter, MixtureOfExperts } from '@moekit/core';
import { LinearExpertBank } from '@moekit/core/testing';
import { describe, expect, it } from 'vitest';
import './register.js';
import { CosineGate } from './cosine-gate.js';
import { TopKChoice, type TopKChoiceArgs } from './top-k-choice.js';

const T = 32;
const D = 6;
const E = 4;

function setup(algorithmArgs: Omit<TopKChoiceArgs, 'numExperts'>) {
  const gate = new CosineGate({ numOutputs: E, inputDim: D, routingDim: 4, initialTemperature: 0.3, seed: 1 });
  const algorithm = new TopKChoice({ numExperts: E, k: 2, ...algorithmArgs });
  const moe = new MixtureOfExperts({ router: new GatedRouter({ gate, algorithm }), experts: new LinearExpertBank({ numExperts: E, inputDim: D, outputDim: 3, seed: 2 }), capacity: { train: 2 }, layout: 'padded' });
  const x = tf.randomNormal([T, D], 0, 1, 'float32', 3);
  const probe = tf.randomNormal([T, 3], 0, 1, 'float32', 4); // loss = Σ output · probe + aux total
  const loss = (training: boolean) => () => {
    const r = moe.apply(x, { training });
    return tf.add(tf.sum(tf.mul(r.output, probe)), r.auxLosses.total) as tf.Scalar;
  };
  return { gate, algorithm, moe, x, probe, loss, dispose: () => { tf.dispose([x, probe]); moe.lastMetrics?.dispose(); moe.dispose(); } };
}

describe('CosineGate gradients through MixtureOfExperts (selection off the tape, gates on it)', () => {
  for (const args of [{ gating: 'softmax' }, { gating: 'sigmoid', biasUpdateRate: 0.01 }] as const) {
    it(`reach W_p, E_emb and log τ, finite and non-zero (${JSON.stringify(args)})`, () => {
      const s = setup(args);
      const names = ['W_p', 'E_emb', 'log τ'];
      const { value, grads } = tf.variableGrads(s.loss(true), s.gate.trainableVariables);
      const vars = s.gate.trainableVariables;
      expect(Object.keys(grads)).toHaveLength(3);
      vars.forEach((v, i) => {
        const g = grads[v.name]!;
        expect(g.shape, names[i]).toEqual(v.shape);
        const values = Array.from(g.dataSync());
        expect(values.every(Number.isFinite), `${names[i]} finite`).toBe(true);
        expect(Math.max(...values.map(Math.abs)), `${names[i]} non-zero`).toBeGreaterThan(1e-6);
      });
      if (args.gating === 'sigmoid') expect(Array.from(s.algorithm.expertBias!.dataSync()).some((b) => b !== 0)).toBe(true); // the training call updated the bias
      tf.dispose([value, ...Object.values(grads)]);
      s.dispose();
    });
  }

  it('d loss / d log τ matches a central finite difference (evaluation: no bias, no update)', () => {
    const s = setup({ gating: 'softmax', gates: 'topKSoftmax' });
    const logTau = s.gate.trainableVariables[2]!;
    const { value, grads } = tf.variableGrads(s.loss(false), [logTau]);
    const analytic = grads[logTau.name]!.dataSync()[0]!;
    const at = (delta: number) => {
      const start = logTau.dataSync()[0]!;
      logTau.assign(tf.scalar(start + delta));
      const l = tf.tidy(() => s.loss(false)().dataSync()[0]!);
      logTau.assign(tf.scalar(start));
      return l;
    };
    const h = 1e-2;
    const numeric = (at(h) - at(-h)) / (2 * h);
    // the routing does not change within ±h here, so the loss is smooth in log τ (measured −0.461456 vs −0.461435)
    expect(Math.abs(analytic - numeric)).toBeLessThanOrEqual(0.005 * Math.abs(numeric));
    expect(Math.abs(analytic)).toBeGreaterThan(1e-3);
    tf.dispose([value, ...Object.values(grads)]);
    s.dispose();
  });
});
