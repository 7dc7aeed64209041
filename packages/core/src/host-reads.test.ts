import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import type { BufferLayout } from './dispatch/buffer-rows.js';
import type { FiniteCheck } from './mixture-of-experts.js';
import { MixtureOfExperts } from './mixture-of-experts.js';
import { countHostReads, LinearExpertBank, LinearTopKRouter } from './testing/index.js';

// Issue 14's targets, counted at the engine (what dataSync / arraySync / data go through): one
// training step — forward, backward, optimiser update — makes no host read with the padded layout
// at a fixed capacity factor, and at most one when the shape needs a number (dropless, grouped).
const x = tf.randomNormal([64, 8], 0, 1, 'float32', 1);
const target = tf.randomNormal([64, 8], 0, 1, 'float32', 2);
afterAll(() => tf.dispose([x, target]));

function trainingStepReads(k: number, capacityTrain: number, layout: BufferLayout, checkFinite: FiniteCheck = 'auto', priority = false) {
  const router = new LinearTopKRouter({ inputDim: 8, numExperts: 4, k, seed: 3 });
  const routed = priority ? Object.assign(Object.create(router) as LinearTopKRouter, {
    route: (g: tf.Tensor2D, o: { training: boolean }) => ({ ...router.route(g, o), priority: tf.sum(g, 1) as tf.Tensor1D }),
  }) : router;
  const moe = new MixtureOfExperts({ router: routed, experts: new LinearExpertBank({ numExperts: 4, inputDim: 8, seed: 4 }), capacity: { train: capacityTrain }, layout, checkFinite });
  const optimizer = tf.train.sgd(0.01);
  const step = () => optimizer.minimize(() => {
    const r = moe.apply(x, { training: true });
    return tf.add(tf.mean(tf.square(tf.sub(r.output, target))), r.auxLosses.total) as tf.Scalar;
  }, false, moe.trainableVariables);
  step(); // prime: kernels, lazily built weights
  const counted = countHostReads(step);
  const metricsReads = countHostReads(() => moe.lastMetrics!.load).sync; // reading the metrics is the caller's choice: one read
  optimizer.dispose();
  moe.dispose();
  return { sync: counted.sync, async: counted.async, metricsReads };
}

describe('host reads per training step (engine read/readSync)', () => {
  for (const k of [1, 2]) {
    it(`padded layout, fixed capacity factor, k = ${k}: none (and one when the metrics are read)`, () => {
      expect(trainingStepReads(k, 1.25, 'padded')).toEqual({ sync: 0, async: 0, metricsReads: 1 });
    });
    it(`grouped layout (group sizes), k = ${k}: one, with the finite checks folded in`, () => {
      expect(trainingStepReads(k, 1.25, 'grouped')).toMatchObject({ sync: 1, async: 0 });
    });
    it(`dropless capacity (factor 0), k = ${k}: one, padded or grouped`, () => {
      expect(trainingStepReads(k, 0, 'padded')).toMatchObject({ sync: 1, async: 0 });
      expect(trainingStepReads(k, 0, 'grouped')).toMatchObject({ sync: 1, async: 0 });
    });
  }
  it('Tutel bounded dropless (factor −1) reads once; BPR priority order is a device sort (no read)', () => {
    expect(trainingStepReads(2, -1, 'grouped')).toMatchObject({ sync: 1, async: 0 });
    expect(trainingStepReads(2, 1.25, 'padded', 'auto', true)).toMatchObject({ sync: 0, async: 0 });
  });
  it('eager finite checks (checkFinite: true) cost reads; off costs none', () => {
    expect(trainingStepReads(1, 1.25, 'padded', true).sync).toBeGreaterThan(0);
    expect(trainingStepReads(1, 1.25, 'padded', false).sync).toBe(0);
    expect(trainingStepReads(1, 1.25, 'grouped', false).sync).toBe(1);
  });
});
