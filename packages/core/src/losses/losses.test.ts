import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { expectNoLeakedTensors } from '../testing/index.js';
import { importanceLoss } from './importance-loss.js';
import { klToUniformLoss } from './kl-to-uniform-loss.js';
import { loadBalancingLoss } from './load-balancing-loss.js';
import { routerZLoss } from './router-z-loss.js';

const value = (t: tf.Scalar) => {
  const v = t.dataSync()[0]!;
  t.dispose();
  return v;
};

describe('loadBalancingLoss (Switch, E · Σ f_i · P_i)', () => {
  it('matches the hand-computed value', () => {
    const probs = tf.tensor2d([[0.7, 0.2, 0.1], [0.1, 0.6, 0.3], [0.5, 0.25, 0.25], [0.2, 0.2, 0.6]]);
    const index = tf.tensor2d([[0, 1], [1, 2], [0, 1], [2, 0]], undefined, 'int32');
    // first choices [0, 1, 0, 2] → f = [2, 1, 1] / 4 = [0.5, 0.25, 0.25]
    // P = column means = [1.5, 1.25, 1.25] / 4 = [0.375, 0.3125, 0.3125]
    // Σ f·P = 0.1875 + 0.078125 + 0.078125 = 0.34375; · E = 3 → 1.03125
    expect(value(loadBalancingLoss(probs, index, 3))).toBeCloseTo(1.03125, 6);
    tf.dispose([probs, index]);
  });

  it('is 1 at perfect balance', () => {
    const probs = tf.tensor2d([[0.5, 0.5], [0.5, 0.5]]);
    const index = tf.tensor2d([[0], [1]], undefined, 'int32');
    expect(value(loadBalancingLoss(probs, index, 2))).toBeCloseTo(1, 6);
    tf.dispose([probs, index]);
  });

  it('rejects mismatched shapes', () => {
    const probs = tf.tensor2d([[0.5, 0.5]]);
    const index = tf.tensor2d([[0], [1]], undefined, 'int32');
    expect(() => loadBalancingLoss(probs, index, 2)).toThrow("loadBalancingLoss: argument 'expertIndex' expected shape [1, 1], got shape [2, 1]");
    expect(() => loadBalancingLoss(probs, index, 3)).toThrow("argument 'probs' expected shape [1, 3], got shape [1, 2]");
    tf.dispose([probs, index]);
  });
});

describe('importanceLoss (Shazeer 2017, CV² of importance)', () => {
  const gates = () => tf.tensor2d([[0.6, 0.4], [0.2, 0.8], [1, 0]]);
  it('matches the hand-computed value, population and unbiased', () => {
    // importance = [1.8, 1.2], mean 1.5, squared deviations [0.09, 0.09]
    // population variance 0.18 / 2 = 0.09 → CV² = 0.09 / 2.25 = 0.04
    // unbiased variance 0.18 / 1 = 0.18 → CV² = 0.08
    const g = gates();
    expect(value(importanceLoss(g))).toBeCloseTo(0.04, 6);
    expect(value(importanceLoss(g, { variance: 'unbiased' }))).toBeCloseTo(0.08, 6);
    g.dispose();
  });
  it('is 0 for one expert and rejects unknown variance', () => {
    const g = tf.tensor2d([[1], [1]]);
    expect(value(importanceLoss(g))).toBe(0);
    expect(() => importanceLoss(g, { variance: 'sample' as never })).toThrow("argument 'variance' expected one of 'population' | 'unbiased', got 'sample'");
    g.dispose();
  });
});

describe('routerZLoss (ST-MoE)', () => {
  it('matches the hand-computed value', () => {
    // logsumexp rows: ln(1 + 1) = ln 2, ln(3 + 1) = ln 4; mean of squares = (0.480453 + 1.921812) / 2
    const logits = tf.tensor2d([[0, 0], [Math.log(3), 0]]);
    expect(value(routerZLoss(logits))).toBeCloseTo(1.2011325, 5);
    logits.dispose();
  });
});

describe('klToUniformLoss', () => {
  it('matches the hand-computed value', () => {
    // p̄ = [0.7, 0.3]; KL(U ‖ p̄) = 0.5 ln(0.5/0.7) + 0.5 ln(0.5/0.3) = 0.0871767
    const probs = tf.tensor2d([[0.5, 0.5], [0.9, 0.1]]);
    expect(value(klToUniformLoss(probs))).toBeCloseTo(0.0871767, 6);
    probs.dispose();
  });
});

describe('every loss at perfect balance', () => {
  const probsArray = [[0.25, 0.25, 0.25, 0.25], [0.25, 0.25, 0.25, 0.25]];
  const cases: [string, (logits: tf.Tensor2D) => tf.Scalar][] = [
    ['loadBalancingLoss', (l) => loadBalancingLoss(tf.softmax(l) as tf.Tensor2D, tf.tensor2d([[0], [1]], undefined, 'int32'), 4)],
    ['importanceLoss', (l) => importanceLoss(tf.softmax(l) as tf.Tensor2D)],
    ['routerZLoss', (l) => routerZLoss(l)],
    ['klToUniformLoss', (l) => klToUniformLoss(tf.softmax(l) as tf.Tensor2D)],
  ];
  for (const [name, loss] of cases) {
    it(`${name} has a finite value and gradient`, async () => {
      const logits = tf.log(tf.tensor2d(probsArray)) as tf.Tensor2D;
      const { value: v, grad } = tf.valueAndGrad((l: tf.Tensor) => loss(l as tf.Tensor2D))(logits);
      expect(Number.isFinite(v.dataSync()[0])).toBe(true);
      expect(Array.from(grad.dataSync()).every(Number.isFinite)).toBe(true);
      tf.dispose([v, grad]);
      await expectNoLeakedTensors(() => tf.tidy(() => loss(logits)).dispose());
      logits.dispose();
    });
  }
});
