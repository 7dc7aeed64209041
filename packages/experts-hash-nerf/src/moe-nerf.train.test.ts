import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { HashGate } from './hash-gate.js';
import { HashGridExperts } from './hash-grid-experts.js';
import { MoENeRF } from './moe-nerf.js';
import { orbitCameras } from './orbit-cameras.js';
import { generateRays } from './pinhole-camera.js';
import { psnr } from './psnr.js';
import { SyntheticScene } from './synthetic-scene.js';

const STEPS = Number(process.env.STEPS ?? 150);
describe('MoENeRF training', () => {
  it('learns the synthetic scene', () => {
    const t0 = performance.now();
    const scene = new SyntheticScene();
    const cameras = orbitCameras({ numViews: 8, size: 16 });
    const near = 0.6;
    const far = 2.6;
    const views = cameras.map((c) => scene.render(c, { near, far }));
    const rays = cameras.map((c) => generateRays(c));
    const origins = tf.concat(rays.map((r) => r.origins)) as tf.Tensor2D;
    const directions = tf.concat(rays.map((r) => r.directions)) as tf.Tensor2D;
    const target = tf.reshape(tf.stack(views), [-1, 3]) as tf.Tensor2D;
    const nerf = new MoENeRF({
      gate: new HashGate({ numExperts: 2, balanceWeight: Number(process.env.BW ?? 0.01), seed: 1 }),
      experts: new HashGridExperts({ experts: [
        { encoding: { numLevels: 4, log2TableSize: 12, baseResolution: 2, finestResolution: 16 }, hiddenDim: 32 },
        { encoding: { numLevels: 6, log2TableSize: 14, baseResolution: 4, finestResolution: 48 }, hiddenDim: 32 },
      ], seed: 2 }),
    });
    const S = 24;
    const evalPsnr = () => tf.tidy(() => {
      const out = nerf.render({ origins, directions }, { near, far, numSamples: S, training: false });
      return psnr(out.rgb, target);
    });
    const before = evalPsnr();
    const opt = tf.train.adam(0.01, 0.9, 0.99, 1e-10);
    const N = origins.shape[0];
    const batch = Number(process.env.BATCH ?? 256);
    const t1 = performance.now();
    for (let step = 0; step < STEPS; step++) {
      const idx = tf.tensor1d(Array.from({ length: batch }, (_, i) => (step * batch + i * 7919) % N), 'int32');
      const o = tf.gather(origins, idx) as tf.Tensor2D;
      const d = tf.gather(directions, idx) as tf.Tensor2D;
      const y = tf.gather(target, idx);
      const cost = opt.minimize(() => {
        const out = nerf.render({ origins: o, directions: d }, { near, far, numSamples: S, training: true, seed: step });
        const loss = tf.add(tf.mean(tf.squaredDifference(out.rgb, y)), out.auxLosses.total) as tf.Scalar;
        return loss;
      }, true, nerf.trainableVariables);
      if (step % 25 === 0) console.log(step, cost!.dataSync()[0], nerf.moe.lastMetrics?.load);
      tf.dispose([idx, o, d, y, cost!]);
    }
    const t2 = performance.now();
    const after = evalPsnr();
    console.log({ before, after, setupMs: t1 - t0, trainMs: t2 - t1, evalMs: performance.now() - t2, tensors: tf.memory().numTensors });
    expect(after).toBeGreaterThan(before);
  }, 300_000);
});
