/**
 * The Switch-NeRF++ experiment (Mi et al. 2025, arXiv:2505.02005) at small scale: an MoE NeRF of
 * heterogeneous hash-grid experts behind the hash gate against one hash grid of (about) the same
 * parameter count, both trained on the analytic synthetic scene and scored by PSNR on held-out views.
 */
import * as tf from '@tensorflow/tfjs';
import type { RoutingMetrics } from '@moekit/core';
import { HashGate, HashGridExperts, MoENeRF, SyntheticScene, generateRays, orbitCameras, psnr, type HashExpertSpec } from '@moekit/experts-hash-nerf';

/** Sizes of {@link nerfExperiment}. */
export interface NeRFExperimentOptions {
  /** Orbit views; every fourth is held out for testing. */
  views: number;
  /** Pixels per image side. */
  size: number;
  /** Samples per ray. */
  samples: number;
  /** Adam steps. */
  steps: number;
  /** Rays per step. */
  batch: number;
  /** Seed of the gates and experts and of the training samples' jitter (the same for both models). */
  seed: number;
}

const NEAR = 0.6;
const FAR = 2.6;

/** The heterogeneous experts: a coarse grid and a finer one with a larger table (Switch-NeRF++ §3.3). */
export const HETEROGENEOUS_EXPERTS: HashExpertSpec[] = [
  { encoding: { numLevels: 4, log2TableSize: 12, baseResolution: 2, finestResolution: 16 }, hiddenDim: 32 },
  { encoding: { numLevels: 6, log2TableSize: 14, baseResolution: 4, finestResolution: 48 }, hiddenDim: 32 },
];

const count = (vs: tf.Variable[]) => vs.reduce((n, v) => n + v.size, 0);

/** The MoE NeRF. */
function moeNeRF(seed: number): MoENeRF {
  return new MoENeRF({ gate: new HashGate({ numExperts: 2, balanceWeight: 0.1, seed }), experts: new HashGridExperts({ experts: HETEROGENEOUS_EXPERTS, seed: seed + 1 }) });
}

/** One grid (levels 2 … 48, like the union of the experts' ranges) whose table size and hidden width bring its parameters closest to `target`. */
function singleGrid(target: number, seed: number): MoENeRF {
  let best: { spec: HashExpertSpec; n: number } | undefined;
  for (const numLevels of [6, 7, 8]) {
    for (let log2TableSize = 12; log2TableSize <= 16; log2TableSize++) {
      for (const hiddenDim of [32, 48, 64]) {
        const spec: HashExpertSpec = { encoding: { numLevels, log2TableSize, baseResolution: 2, finestResolution: 48 }, hiddenDim };
        const probe = new HashGridExperts({ experts: [spec], seed });
        const n = count(probe.trainableVariables);
        probe.dispose();
        if (!best || Math.abs(n - target) < Math.abs(best.n - target)) best = { spec, n };
      }
    }
  }
  // a one-expert gate passes every point to the grid with weight Softmax = 1; its small table is counted too
  return new MoENeRF({ gate: new HashGate({ numExperts: 1, balanceWeight: 0, seed }), experts: new HashGridExperts({ experts: [best!.spec], seed: seed + 1 }) });
}

/** One model's result. */
export interface NeRFResult {
  /** The model. */
  name: string;
  /** Trainable parameters, gate included. */
  parameters: number;
  /** PSNR (dB) on the training views. */
  trainPsnr: number;
  /** PSNR (dB) on the held-out views. */
  testPsnr: number;
  /** Training seconds. */
  seconds: number;
  /** `[E]` sample points each expert kept when rendering the held-out views (the gate's evaluation load). */
  load: number[];
  /** Dropped (point, expert) pairs / pairs asked for, rendering the held-out views. */
  droppedFraction: number;
}

/** Trains both models on the same rays and returns their PSNRs. */
export function nerfExperiment(o: NeRFExperimentOptions): NeRFResult[] {
  const scene = new SyntheticScene();
  const cameras = orbitCameras({ numViews: o.views, size: o.size });
  const split = (keep: (i: number) => boolean) => tf.tidy(() => {
    const chosen = cameras.filter((_, i) => keep(i));
    const rays = chosen.map((c) => generateRays(c));
    return {
      target: tf.reshape(tf.stack(chosen.map((c) => scene.render(c, { near: NEAR, far: FAR }))), [-1, 3]) as tf.Tensor2D,
      origins: tf.concat(rays.map((r) => r.origins)) as tf.Tensor2D,
      directions: tf.concat(rays.map((r) => r.directions)) as tf.Tensor2D,
    };
  });
  const train = split((i) => i % 4 !== 3);
  const test = split((i) => i % 4 === 3);
  const moe = moeNeRF(o.seed);
  const moeParameters = count(moe.trainableVariables);
  const models: [string, MoENeRF][] = [['MoE: 2 heterogeneous hash experts + hash gate', moe], ['single hash grid (equal parameters)', singleGrid(moeParameters, o.seed)]];
  const results = models.map(([name, nerf]) => {
    const optimizer = tf.train.adam(0.01, 0.9, 0.99, 1e-10); // Instant-NGP's Adam
    const numRays = train.origins.shape[0];
    const started = performance.now();
    for (let step = 0; step < o.steps; step++) {
      tf.tidy(() => {
        const idx = tf.tensor1d(Array.from({ length: o.batch }, (_, i) => (step * o.batch + i * 7919) % numRays), 'int32'); // the same fixed stride for both models
        const batch = { origins: tf.gather(train.origins, idx) as tf.Tensor2D, directions: tf.gather(train.directions, idx) as tf.Tensor2D };
        const y = tf.gather(train.target, idx);
        optimizer.minimize(() => {
          const out = nerf.render(batch, { near: NEAR, far: FAR, numSamples: o.samples, training: true, seed: o.seed * 1_000_003 + step });
          return tf.add(tf.mean(tf.squaredDifference(out.rgb, y)), out.auxLosses.total) as tf.Scalar; // photometric MSE + balance loss
        }, false, nerf.trainableVariables);
      });
    }
    const seconds = (performance.now() - started) / 1000;
    // PSNR = 10·log10(1 / MSE) (NeRF's metric), rendered without sampling jitter
    let metrics: RoutingMetrics | undefined;
    const score = (s: typeof train) => tf.tidy(() => {
      const rendered = nerf.render({ origins: s.origins, directions: s.directions }, { near: NEAR, far: FAR, numSamples: o.samples, training: false });
      metrics = rendered.metrics;
      return psnr(rendered.rgb, s.target);
    });
    const trainPsnr = score(train);
    const testPsnr = score(test); // its routing metrics are the held-out views'
    const result = { name, parameters: count(nerf.trainableVariables), trainPsnr, testPsnr, seconds, load: metrics!.load, droppedFraction: metrics!.droppedFraction };
    optimizer.dispose();
    nerf.dispose();
    return result;
  });
  tf.dispose([train.target, train.origins, train.directions, test.target, test.origins, test.directions]);
  return results;
}

/** The results as a markdown table. */
export function formatNeRFResults(results: NeRFResult[]): string {
  return ['| model | parameters | PSNR train views (dB) | PSNR held-out views (dB) | train time |', '|---|---:|---:|---:|---:|',
    ...results.map((r) => `| ${r.name} | ${r.parameters} | ${r.trainPsnr.toFixed(2)} | ${r.testPsnr.toFixed(2)} | ${r.seconds.toFixed(1)} s |`)].join('\n');
}
