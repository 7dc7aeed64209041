import * as tf from '@tensorflow/tfjs';
import { expectNoLeakedTensors, expectTensorsClose } from '@moekit/core/testing';
import { describe, expect, it } from 'vitest';
import { shazeerLoad } from './shazeer-load.js';
import { vmoeLoad } from './vmoe-load.js';

const clean = () => tf.tensor2d([[1.0, 0.5, -0.5], [0.2, 0.1, 0.3]]);
const noisy = () => tf.tensor2d([[1.2, 0.4, -0.1], [0.0, 0.6, 0.35]]);
const std = () => tf.tensor2d([[0.5, 1.0, 2.0], [1.0, 0.5, 0.25]]);

describe('shazeerLoad (Shazeer 2017, Appendix A)', () => {
  it('matches numpy/scipy for k = 1 and k = 2', () => {
    // numpy: srt = -sort(-noisy); t_in = srt[:, k]; t_out = srt[:, k-1]; is_in = noisy > t_in
    //        P = where(is_in, Φ((clean - t_in)/std), Φ((clean - t_out)/std)); load = P.sum(0)
    // k = 1, row 0: t_in = 0.4, t_out = 1.2, in = [e0] → Φ(1.2), Φ(-0.7), Φ(-0.85)
    //        row 1: t_in = 0.35, t_out = 0.6, in = [e1] → Φ(-0.4), Φ(-0.5), Φ(-1.2)
    const [c, n, s] = [clean(), noisy(), std()];
    const k1 = shazeerLoad(c, n, s, 1);
    const k2 = shazeerLoad(c, n, s, 2);
    expectTensorsClose(k1, [1.229509, 0.550501, 0.312732], { atol: 2e-6 });
    expectTensorsClose(k2, [1.426479, 1.305007, 1.211286], { atol: 2e-6 });
    const all = shazeerLoad(c, n, s, 3); // k = E: every expert always chosen
    expectTensorsClose(all, [2, 2, 2], { atol: 0 });
    tf.dispose([c, n, s, k1, k2, all]);
  });

  it('passes gradients to the clean logits, the noise scale and the thresholds', () => {
    const [c, n, s] = [clean(), noisy(), std()];
    const grads = tf.grads((a: tf.Tensor, b: tf.Tensor, d: tf.Tensor) => tf.sum(tf.square(shazeerLoad(a as tf.Tensor2D, b as tf.Tensor2D, d as tf.Tensor2D, 1))))([c, n, s]);
    for (const g of grads) {
      expect(Array.from(g.dataSync()).every(Number.isFinite)).toBe(true);
      expect(tf.tidy(() => tf.norm(g).dataSync()[0]!)).toBeGreaterThan(0);
    }
    tf.dispose([c, n, s, ...grads]);
  });

  it('rejects bad input and leaks nothing', async () => {
    const [c, n, s] = [clean(), noisy(), std()];
    expect(() => shazeerLoad(c, n, s, 4)).toThrow("shazeerLoad: argument 'k' expected an integer in [1, 3], got 4");
    expect(() => shazeerLoad(c, n, -1, 1)).toThrow("shazeerLoad: argument 'noiseStd' expected a positive number or shape [2, 3], got -1");
    const wrong = tf.zeros([3, 3]) as tf.Tensor2D;
    expect(() => shazeerLoad(c, wrong, s, 1)).toThrow("shazeerLoad: argument 'noisyLogits' expected shape [2, 3] (that of cleanLogits), got shape [3, 3]");
    await expectNoLeakedTensors(() => shazeerLoad(c, n, s, 2).dispose());
    tf.dispose([c, n, s, wrong]);
  });
});

describe('vmoeLoad (V-MoE _load_auxiliary_loss)', () => {
  it('matches numpy/scipy', () => {
    // numpy: thr = -sort(-noisy)[:, k-1]; p = 1 - Φ((thr - clean)/σ); pm = p.mean(0); pm.var()/pm.mean()**2
    // σ = 0.5, k = 1: pm = [0.278217, 0.119706, 0.137295] → 0.158117; k = 2 → 0.126868
    const [c, n] = [clean(), noisy()];
    const k1 = vmoeLoad(c, n, 0.5, 1);
    const k2 = vmoeLoad(c, n, 0.5, 2);
    expect(k1.dataSync()[0]).toBeCloseTo(0.158117, 5);
    expect(k2.dataSync()[0]).toBeCloseTo(0.126868, 5);
    expect(() => vmoeLoad(c, n, 0, 1)).toThrow("vmoeLoad: argument 'noiseStd' expected a number > 0, got 0");
    tf.dispose([c, n, k1, k2]);
  });
});
