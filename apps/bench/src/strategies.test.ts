import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { measure } from './measure.js';
import { denseStrategy, limitStrategy, moekitStrategy, oneHotStrategy, type BenchConfig } from './strategies.js';

// The benchmark's timings are not tested (they are measured by `npm run bench`); its strategies are:
// the three ways of running the same routed layer must compute the same loss, and none may leak.
const config: BenchConfig = { numTokens: 48, dim: 8, hidden: 16, numExperts: 4, k: 2, capacityFactor: 1.25 };

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('benchmark strategies', () => {
  it('moekit grouped, moekit padded and the one-hot dispatch compute the same layer', () => {
    const losses = [moekitStrategy(config, 'grouped'), moekitStrategy(config, 'padded'), oneHotStrategy(config)].map((s) => {
      const [first, ...rest] = s.forward();
      const value = tf.tidy(() => (first!.rank === 0 ? first! : tf.add(tf.mean(tf.square(first!)), rest[0]!)).dataSync()[0]!);
      tf.dispose([first!, ...rest]);
      s.dispose();
      return value;
    });
    expect(losses[1]).toBeCloseTo(losses[0]!, 5);
    expect(losses[2]).toBeCloseTo(losses[0]!, 5);
  });

  it('every strategy trains without leaking a tensor', async () => {
    const makers = [() => moekitStrategy(config, 'auto'), () => oneHotStrategy(config), () => limitStrategy(config), () => denseStrategy(config)];
    for (const [i, make] of [makers[0]!, ...makers].entries()) {
      const before = tf.memory().numTensors;
      const s = make();
      const m = await measure(s.train, { warmup: 1, runs: 2, profile: false });
      expect(m.leaked).toBe(0);
      expect(m.runs).toHaveLength(2);
      s.dispose();
      // the first pass primes the shared optimizer's state; after it, dispose returns every tensor
      if (i > 0) expect(tf.memory().numTensors).toBe(before);
    }
  });
});
