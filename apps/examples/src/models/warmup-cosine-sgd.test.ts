import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { clipByGlobalNorm, warmupCosineLearningRate, WarmupCosineSgd } from './warmup-cosine-sgd.js';

const schedule = { peak: 0.1, end: 0.001, warmupSteps: 10, totalSteps: 110 };

describe('warmupCosineLearningRate', () => {
  it('warms up linearly from 0 and decays along a cosine to the end value (optax warmup_cosine_decay_schedule)', () => {
    expect(warmupCosineLearningRate(0, schedule)).toBe(0);
    expect(warmupCosineLearningRate(5, schedule)).toBeCloseTo(0.05, 12); // 0.1 · 5/10
    expect(warmupCosineLearningRate(10, schedule)).toBeCloseTo(0.1, 12); // the peak, cos 0 = 1
    expect(warmupCosineLearningRate(60, schedule)).toBeCloseTo(0.0505, 12); // halfway: 0.001 + 0.099 · ½(1 + cos π/2)
    expect(warmupCosineLearningRate(110, schedule)).toBeCloseTo(0.001, 12); // the end: cos π = −1
    expect(warmupCosineLearningRate(500, schedule)).toBeCloseTo(0.001, 12); // held after the last step
  });

  it('names a schedule it cannot follow', () => {
    expect(() => warmupCosineLearningRate(0, { ...schedule, totalSteps: 10 })).toThrow(/totalSteps > warmupSteps/);
  });
});

describe('clipByGlobalNorm', () => {
  it('scales every gradient by maxNorm / ‖g‖ when the global norm is larger, and leaves it otherwise', () => {
    const grads = { a: tf.tensor1d([3, 0]), b: tf.tensor1d([4]) }; // ‖g‖ = √(9 + 16) = 5
    const clipped = clipByGlobalNorm(grads, 2.5); // scale 2.5 / 5 = 0.5
    expect(clipped.norm).toBeCloseTo(5, 6);
    expect(Array.from(clipped.grads.a!.dataSync())).toEqual([1.5, 0]);
    expect(Array.from(clipped.grads.b!.dataSync())).toEqual([2]);
    const kept = clipByGlobalNorm(grads, 10);
    expect(Array.from(kept.grads.a!.dataSync())).toEqual([3, 0]);
    tf.dispose([grads.a, grads.b, ...Object.values(clipped.grads), ...Object.values(kept.grads)]);
  });
});

describe('WarmupCosineSgd', () => {
  it('takes momentum steps v ← 0.9·v + g, w ← w − lr·v at the scheduled rates, on clipped gradients, without leaking', () => {
    const w = tf.variable(tf.tensor1d([1]));
    const sgd = new WarmupCosineSgd({ schedule: { peak: 0.1, end: 0.1, warmupSteps: 1, totalSteps: 3 }, clipNorm: 10 });
    const loss = () => tf.mul(tf.sum(w), 20) as tf.Scalar; // gradient 20, clipped to 10
    const before = tf.memory().numTensors;
    const first = sgd.step(loss, [w]); // lr 0 (warmup from 0): v = 10, w stays 1
    expect(first.gradNorm).toBeCloseTo(20, 5);
    expect(first.loss).toBeCloseTo(20, 5);
    expect(w.dataSync()[0]).toBeCloseTo(1, 6);
    sgd.step(loss, [w]); // lr 0.1: v = 0.9·10 + 10 = 19, w = 1 − 1.9 = −0.9
    expect(w.dataSync()[0]).toBeCloseTo(-0.9, 5);
    const after = tf.memory().numTensors;
    expect(after - before).toBe(1); // the one velocity the optimiser keeps
    sgd.dispose();
    expect(tf.memory().numTensors).toBe(before); // and releases
    w.dispose();
  });
});
