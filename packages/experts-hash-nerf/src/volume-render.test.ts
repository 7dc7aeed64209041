import * as tf from '@tensorflow/tfjs';
import { expectNoLeakedTensors, expectTensorsClose } from '@moekit/core/testing';
import { describe, expect, it } from 'vitest';
import { volumeRender } from './volume-render.js';

// One ray, 100 samples at t_i = i · 0.01; a slab of constant density σ = 2 over samples 20..94
// (thickness 75 · 0.01 = 0.75) and colour c = (1, 0.5, 0.25); empty elsewhere.
function slab(): { sigma: tf.Tensor2D; rgb: tf.Tensor3D; t: tf.Tensor2D } {
  const S = 100;
  const inside = (i: number) => i >= 20 && i < 95;
  return {
    sigma: tf.tensor2d([Array.from({ length: S }, (_, i) => (inside(i) ? 2 : 0))]),
    rgb: tf.tensor3d([Array.from({ length: S }, (_, i) => (inside(i) ? [1, 0.5, 0.25] : [0, 0, 0]))]),
    t: tf.tensor2d([Array.from({ length: S }, (_, i) => i * 0.01)]),
  };
}

describe('volumeRender', () => {
  it('gives transmittance exp(−σ·d) through a constant-density slab (NeRF Eq. 3)', () => {
    const { sigma, rgb, t } = slab();
    const out = volumeRender(sigma, rgb, t);
    const T = out.transmittance.dataSync();
    expect(T[20]).toBe(1); // nothing in front of the slab
    expect(T[50]).toBeCloseTo(Math.exp(-2 * 0.3), 6); // exp(−0.6) = 0.548812 after 30 samples of the slab
    expect(T[95]).toBeCloseTo(Math.exp(-2 * 0.75), 6); // exp(−1.5) = 0.223130 behind it
    expect(T[99]).toBeCloseTo(Math.exp(-1.5), 6); // empty space keeps it
    // colour = c · (1 − exp(−1.5)) = c · 0.776870; opacity the same
    expectTensorsClose(out.rgb, [[0.776870, 0.388435, 0.194217]], { atol: 1e-5 });
    expectTensorsClose(out.opacity, [0.776870], { atol: 1e-5 });
    tf.dispose([sigma, rgb, t, out.rgb, out.weights, out.transmittance, out.opacity]);
  });

  it('composites onto the background what the ray leaves transparent', () => {
    const { sigma, rgb, t } = slab();
    const out = volumeRender(sigma, rgb, t, { background: [1, 1, 1] });
    // c · 0.776870 + 0.223130 · 1
    expectTensorsClose(out.rgb, [[1, 0.611565, 0.417347]], { atol: 1e-5 });
    tf.dispose([sigma, rgb, t, out.rgb, out.weights, out.transmittance, out.opacity]);
  });

  it('sends gradients to density and colour', () => {
    const { sigma, rgb, t } = slab();
    const [dSigma, dRgb] = tf.grads((s: tf.Tensor, c: tf.Tensor) => tf.sum(volumeRender(s as tf.Tensor2D, c as tf.Tensor3D, t).rgb))([sigma, rgb]);
    // ∂C/∂c_i = w_i: at the slab's first sample w_20 = 1 − exp(−2 · 0.01) = 0.0198013 for each channel
    expect(dRgb!.dataSync()[20 * 3]).toBeCloseTo(1 - Math.exp(-0.02), 6);
    // more density in front of the slab hides it: ∂(Σ_ch C)/∂σ_10 = −δ · Σ_ch C = −0.01 · 1.75 · 0.776870
    expect(dSigma!.dataSync()[10]).toBeCloseTo(-0.01 * 1.75 * (1 - Math.exp(-1.5)), 5);
    tf.dispose([sigma, rgb, t, dSigma!, dRgb!]);
  });

  it('names bad shapes and leaks nothing', async () => {
    const { sigma, rgb, t } = slab();
    const wrong = tf.zeros([1, 100, 4]);
    expect(() => volumeRender(sigma, wrong as tf.Tensor3D, t)).toThrow("volumeRender: argument 'rgb' expected shape [1, 100, 3], got shape [1, 100, 4]");
    await expectNoLeakedTensors(() => tf.dispose(Object.values(volumeRender(sigma, rgb, t))));
    tf.dispose([sigma, rgb, t, wrong]);
  });
});
