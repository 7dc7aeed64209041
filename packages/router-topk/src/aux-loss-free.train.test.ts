import * as tf from '@tensorflow/tfjs';
import { GatedRouter, LinearGate, MixtureOfExperts } from '@moekit/core';
import { LinearExpertBank } from '@moekit/core/testing';
import { describe, expect, it } from 'vitest';
import './register.js';
import { TopKChoice } from './top-k-choice.js';

const E = 4;
const K = 2;
const D = 8;
const BATCH = 128;
const STEPS = 60;

/** Max and min over experts of the tokens choosing each, and Wang et al.'s MaxVio = max_i load_i / mean − 1. */
function balance(load: number[]) {
  const mean = load.reduce((a, b) => a + b, 0) / load.length;
  return { max: Math.max(...load), min: Math.min(...load), maxVio: Math.max(...load) / mean - 1 };
}

/**
 * Trains an MoE whose gate input has a constant feature that the gate kernel turns into +3 on the logits
 * of experts 0 and 1: every token starts on experts 0 and 1 (σ(3 + n) ≈ 0.95 against σ(n) ≈ 0.5).
 * Returns the load (choices per expert, before capacity) of the first step and the mean of the last ten.
 */
function trainSkewed(biasUpdateRate: number) {
  const gate = new LinearGate({ numOutputs: E, inputDim: D, seed: 1 });
  tf.tidy(() => gate.trainableVariables[0]!.assign(tf.add(gate.trainableVariables[0]!, tf.pad(tf.tensor2d([[3, 3, 0, 0]]), [[0, D - 1], [0, 0]]))));
  const algorithm = new TopKChoice({ numExperts: E, k: K, gating: 'sigmoid', biasUpdateRate, loadBalancingWeight: 0 });
  const moe = new MixtureOfExperts({ router: new GatedRouter({ gate, algorithm }), experts: new LinearExpertBank({ numExperts: E, inputDim: D, outputDim: 2, seed: 2 }), capacity: { train: 2 }, layout: 'padded' });
  const optimizer = tf.train.adam(0.01);
  const target = tf.randomNormal([D, 2], 0, 1, 'float32', 3);
  const loads: number[][] = [];
  for (let step = 0; step < STEPS; step++) {
    const [x, y] = tf.tidy(() => {
      const xs = tf.concat([tf.ones([BATCH, 1]), tf.randomNormal([BATCH, D - 1], 0, 1, 'float32', 100 + step)], 1); // [B, D], feature 0 constant
      return [xs, tf.matMul(xs, target)];
    });
    optimizer.minimize(() => {
      const r = moe.apply(x!, { training: true });
      loads.push(r.metrics.needed); // choices per expert this step (lazy metric, read here in the test)
      return tf.add(tf.mean(tf.square(tf.sub(r.output, y!))), r.auxLosses.total) as tf.Scalar;
    }, false, moe.trainableVariables);
    tf.dispose([x!, y!]);
  }
  const finalBias = algorithm.expertBias ? Array.from(algorithm.expertBias.dataSync()) : [];
  tf.dispose(target);
  optimizer.dispose();
  moe.dispose();
  const last = loads.slice(-10);
  const after = Array.from({ length: E }, (_, e) => last.reduce((s, l) => s + l[e]!, 0) / last.length);
  return { before: loads[0]!, after, finalBias };
}

describe('aux-loss-free balancing over a short training run (Wang et al. 2024)', () => {
  it('balances a skewed load that stays skewed without the bias', () => {
    const withBias = trainSkewed(0.01);
    const without = trainSkewed(0);
    const report = (name: string, r: ReturnType<typeof trainSkewed>) =>
      `${name}: load before [${r.before.join(', ')}] ${JSON.stringify(balance(r.before))}, after (mean of last 10 steps) [${r.after.map((v) => v.toFixed(1)).join(', ')}] ${JSON.stringify(balance(r.after))}`;
    console.log(`${report('u = 0.01', withBias)}; final bias [${withBias.finalBias.map((b) => b.toFixed(3)).join(', ')}]\n${report('u = 0', without)}`);
    // every token starts on experts 0 and 1: load [128, 128, 0, 0] of 256 choices
    expect(withBias.before).toEqual([128, 128, 0, 0]);
    // balanced (measured [61.0, 62.3, 65.4, 67.3], MaxVio 0.05): every expert within 15 % of the mean 64
    expect(balance(withBias.after).maxVio).toBeLessThanOrEqual(0.15);
    expect(balance(withBias.after).min).toBeGreaterThanOrEqual(54);
    // the control, same run without the bias and without an aux loss, stays skewed (measured [122.4, 125.6, 5.2, 2.8])
    expect(balance(without.after).maxVio).toBeGreaterThan(0.5);
    // the overloaded experts' bias fell, the idle experts' rose
    expect(withBias.finalBias[0]! < 0 && withBias.finalBias[1]! < 0 && withBias.finalBias[2]! > 0 && withBias.finalBias[3]! > 0).toBe(true);
  });
});
