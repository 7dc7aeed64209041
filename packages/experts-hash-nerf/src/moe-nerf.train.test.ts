import * as tf from '@tensorflow/tfjs';
import { expectNoLeakedTensors } from '@moekit/core/testing';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { gateDecompositionImage } from './gate-decomposition-image.js';
import { HashGate } from './hash-gate.js';
import { HashGridExperts } from './hash-grid-experts.js';
import { MoENeRF } from './moe-nerf.js';
import { orbitCameras } from './orbit-cameras.js';
import { generateRays } from './pinhole-camera.js';
import { psnr } from './psnr.js';
import { SyntheticScene } from './synthetic-scene.js';
import { writePng } from './write-png.js';

// Reduced size: 8 orbit views of 16 × 16 pixels, 24 samples per ray, 256 rays per step, 100 Adam steps.
const NEAR = 0.6;
const FAR = 2.6;
const SAMPLES = 24;
const STEPS = 100;
const BATCH = 256;

function buildNeRF(): MoENeRF {
  return new MoENeRF({
    gate: new HashGate({ numExperts: 2, balanceWeight: 0.1, seed: 1 }),
    experts: new HashGridExperts({ experts: [
      { encoding: { numLevels: 4, log2TableSize: 12, baseResolution: 2, finestResolution: 16 }, hiddenDim: 32 }, // coarse
      { encoding: { numLevels: 6, log2TableSize: 14, baseResolution: 4, finestResolution: 48 }, hiddenDim: 32 }, // finer, larger table
    ], seed: 2 }),
  });
}

describe('MoENeRF', () => {
  it('trains on the synthetic scene: PSNR on the training views rises from 11.6 dB to above 18 dB; the gate\'s decomposition exports as a PNG', () => {
    const scene = new SyntheticScene();
    const cameras = orbitCameras({ numViews: 8, size: 16 });
    const target = tf.tidy(() => tf.reshape(tf.stack(cameras.map((c) => scene.render(c, { near: NEAR, far: FAR }))), [-1, 3])); // [2048, 3]
    const rays = cameras.map((c) => generateRays(c));
    const origins = tf.concat(rays.map((r) => r.origins)) as tf.Tensor2D; // [2048, 3]
    const directions = tf.concat(rays.map((r) => r.directions)) as tf.Tensor2D; // [2048, 3]
    tf.dispose(rays.flatMap((r) => [r.origins, r.directions]));
    const nerf = buildNeRF();
    const evaluate = () => tf.tidy(() => psnr(nerf.render({ origins, directions }, { near: NEAR, far: FAR, numSamples: SAMPLES, training: false }).rgb, target));
    const before = evaluate();
    const optimizer = tf.train.adam(0.01, 0.9, 0.99, 1e-10); // Instant-NGP's Adam (lr 1e-2, β2 0.99)
    const numRays = origins.shape[0];
    const start = performance.now();
    for (let step = 0; step < STEPS; step++) {
      tf.tidy(() => {
        const idx = tf.tensor1d(Array.from({ length: BATCH }, (_, i) => (step * BATCH + i * 7919) % numRays), 'int32'); // a fixed stride through all pixels
        const batch = { origins: tf.gather(origins, idx) as tf.Tensor2D, directions: tf.gather(directions, idx) as tf.Tensor2D };
        const y = tf.gather(target, idx);
        optimizer.minimize(() => {
          const out = nerf.render(batch, { near: NEAR, far: FAR, numSamples: SAMPLES, training: true, seed: step });
          return tf.add(tf.mean(tf.squaredDifference(out.rgb, y)), out.auxLosses.total) as tf.Scalar; // photometric MSE + balance loss
        }, false, nerf.trainableVariables);
      });
    }
    const trainSeconds = (performance.now() - start) / 1000;
    const after = evaluate();
    const image = gateDecompositionImage(nerf.gate, { axis: 'z', at: 0.5, size: 32 });
    const path = join(tmpdir(), `moekit-decomposition-${process.pid}.png`);
    writePng(path, image.png);
    console.log(`MoENeRF: PSNR ${before.toFixed(2)} dB -> ${after.toFixed(2)} dB after ${STEPS} steps (${trainSeconds.toFixed(1)} s); decomposition pixels per expert ${image.counts.join(' / ')}`);
    expect(before).toBeLessThan(13);
    expect(after).toBeGreaterThan(18);
    expect(image.counts.reduce((a, b) => a + b, 0)).toBe(32 * 32);
    expect(existsSync(path) && Array.from(readFileSync(path).subarray(0, 4))).toEqual([137, 80, 78, 71]);
    rmSync(path);
    tf.dispose([target, origins, directions]);
    optimizer.dispose();
    nerf.dispose();
  }, 120_000);

  it('leaks no tensors over a training step', async () => {
    const nerf = buildNeRF();
    const rays = generateRays(orbitCameras({ numViews: 1, size: 4 })[0]!);
    const optimizer = tf.train.adam(0.01);
    await expectNoLeakedTensors(() => tf.tidy(() => {
      optimizer.minimize(() => {
        const out = nerf.render(rays, { near: NEAR, far: FAR, numSamples: 8, training: true, seed: 1 });
        return tf.add(tf.mean(out.rgb), out.auxLosses.total) as tf.Scalar;
      }, false, nerf.trainableVariables);
    }));
    tf.dispose([rays.origins, rays.directions]);
    optimizer.dispose();
    nerf.dispose();
  });
});
