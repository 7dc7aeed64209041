import * as tf from '@tensorflow/tfjs';
import { expectNoLeakedTensors, expectTensorsClose } from '@moekit/core/testing';
import { describe, expect, it } from 'vitest';
import { crossEntropyObjective, routerObjective, tradesObjective } from './attack-objective.js';
import { fgsm } from './fgsm.js';
import { moeCnn } from './moe-cnn.fixture.js';
import { pgd } from './pgd.js';

// L(x) = Σ w·x: ∇L = w, so every signed step is sign(w) = [1, −1, −1, 0].
const w = tf.tensor4d([1, -2, -1, 0], [1, 2, 2, 1]);
const linear = (x: tf.Tensor) => tf.sum(tf.mul(x, w)) as tf.Scalar;
const x = tf.tensor4d([0.5, 0.95, 0.02, 0.3], [1, 2, 2, 1]);

describe('fgsm and pgd', () => {
  it('fgsm steps ε along sign(∇L) and clips to the range', () => {
    // x + 0.1·[1, −1, −1, 0] = [0.6, 0.85, −0.08, 0.3] → clip to [0, 1] → [0.6, 0.85, 0, 0.3]
    expectTensorsClose(fgsm(linear, x, { epsilon: 0.1 }), [[[[0.6], [0.85]], [[0], [0.3]]]], { atol: 1e-7 });
  });

  it('pgd projects onto the ε-ball and the range after every step', () => {
    // α = 0.08, ε = 0.1, no random start. Step 1: [0.58, 0.87, −0.06, 0.3] → ball ok → range: [0.58, 0.87, 0, 0.3].
    // Step 2: [0.66, 0.79, −0.08, 0.3] → ball [x−0.1, x+0.1]: [0.6, 0.85, −0.08, 0.3] → range: [0.6, 0.85, 0, 0.3].
    const adv = pgd(linear, x, { epsilon: 0.1, stepSize: 0.08, steps: 2, randomStart: false });
    expectTensorsClose(adv, [[[[0.6], [0.85]], [[0], [0.3]]]], { atol: 1e-7 });
  });

  it('with steps = 1, no random start and step = ε, pgd equals fgsm bit for bit on an MoE-CNN', () => {
    const model = moeCnn({ imageSize: 8, seed: 5 });
    const images = tf.randomUniform([6, 8, 8, 1], 0, 1, 'float32', 7);
    const labels = tf.tensor1d([0, 1, 2, 3, 4, 5], 'int32');
    const objective = crossEntropyObjective(model, labels);
    const a = pgd(objective, images, { epsilon: 0.2, stepSize: 0.2, steps: 1, randomStart: false });
    const b = fgsm(objective, images, { epsilon: 0.2 });
    expect(Array.from(a.dataSync())).toEqual(Array.from(b.dataSync()));
    // and the attack moved the images: the CE gradient is not zero everywhere
    expect(tf.max(tf.abs(tf.sub(a, images))).dataSync()[0]).toBeCloseTo(0.2, 6);
    tf.dispose([a, b, images, labels]);
    model.dispose();
  });

  it('attacks against the router and against model + router raise their objective', () => {
    const model = moeCnn({ imageSize: 8, seed: 9 });
    const images = tf.randomUniform([8, 8, 8, 1], 0, 1, 'float32', 3);
    const clean = model.forward(images, false);
    const router = routerObjective(model, clean.routerScores);
    const both = tradesObjective(model, clean.logits, clean.routerScores);
    expect(router(images).dataSync()[0]).toBeCloseTo(0, 6); // KL(r(x) ‖ r(x)) = 0
    const xr = pgd(router, images, { epsilon: 0.2, steps: 5, seed: 1 });
    const xb = pgd(both, images, { epsilon: 0.2, steps: 5, seed: 1 });
    expect(router(xr).dataSync()[0]).toBeGreaterThan(0);
    expect(both(xb).dataSync()[0]).toBeGreaterThan(router(xb).dataSync()[0]! - 1e-6); // model KL ≥ 0 adds to the router KL
    tf.dispose([images, clean.logits, clean.routerScores, clean.expertIndex, xr, xb]);
    model.dispose();
  });

  it('rejects ε < 0, steps < 1, a bad range and inputs outside the range by name', () => {
    expect(() => pgd(linear, x, { epsilon: -0.1 })).toThrow("pgd: argument 'epsilon' expected a finite number >= 0, got -0.1");
    expect(() => fgsm(linear, x, { epsilon: -1 })).toThrow("fgsm: argument 'epsilon' expected a finite number >= 0, got -1");
    expect(() => pgd(linear, x, { epsilon: 0.1, steps: 0 })).toThrow("pgd: argument 'steps' expected an integer >= 1, got 0");
    expect(() => pgd(linear, x, { epsilon: 0.1, clipMin: 1, clipMax: 0 })).toThrow("pgd: argument 'clipMax' expected a number > clipMin (1), got 0");
    const outside = tf.tensor4d([0.5, 1.5, -0.25, 0], [1, 2, 2, 1]);
    expect(() => pgd(linear, outside, { epsilon: 0.1 })).toThrow("pgd: argument 'images' expected values in the declared input range [0, 1], got values in [-0.25, 1.5]");
    expect(() => fgsm(linear, outside, { epsilon: 0.1, clipMin: -1, clipMax: 1 })).toThrow("fgsm: argument 'images' expected values in the declared input range [-1, 1], got values in [-0.25, 1.5]");
    expect(() => pgd(linear, x, { epsilon: 0.1, step: 1 } as never)).toThrow("pgd: argument 'step' expected one of the known options");
    outside.dispose();
  });

  it('leaks no tensors', async () => {
    await expectNoLeakedTensors(() => {
      tf.dispose([pgd(linear, x, { epsilon: 0.1, steps: 3, seed: 2 }), fgsm(linear, x, { epsilon: 0.1 })]);
    });
  });
});
