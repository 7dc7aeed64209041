// The benchmark's padded MoE training step against a dense FFN of equal active compute, on tfjs's
// webgl backend in Chromium (`npm run test:browser`; SwiftShader where there is no GPU). A printed
// comparison, not a timed assertion: what it asserts is that both steps run and leak nothing.
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { denseStrategy, moekitStrategy, type BenchConfig, type Strategy } from './strategies.js';

// E = 8 experts of hidden H = 128, top-1, against one dense FFN D → H → D: the same matMul work per
// token (the padded MoE multiplies its 1.25 · T slots, padding included). Small enough for SwiftShader
// to take well under a second a step.
const config: BenchConfig = { numTokens: 512, dim: 64, hidden: 128, numExperts: 8, k: 1, capacityFactor: 1.25 };
const WARMUP = 3;
const RUNS = 9;

/** Wall time of one training step, ms, read back to the host so webgl's queued work is included. */
function timeStep(strategy: Strategy): number {
  const t0 = performance.now();
  const out = strategy.train();
  for (const t of out) t.dataSync();
  tf.dispose(out);
  return performance.now() - t0;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

describe('a training step on webgl', () => {
  it('prints the padded MoE step beside a dense FFN of equal active compute', () => {
    expect(tf.getBackend()).toBe('webgl');
    // time what users get: tfjs's default shaders (the browser setup turns shape uniforms on to compile fewer)
    const saved = tf.env().getBool('WEBGL_USE_SHAPES_UNIFORMS');
    tf.env().set('WEBGL_USE_SHAPES_UNIFORMS', false);
    const moe = moekitStrategy(config, 'padded');
    const dense = denseStrategy(config);
    try {
      for (let i = 0; i < WARMUP; i++) [moe, dense].forEach(timeStep);
      const before = tf.memory().numTensors;
      // interleaved, so that both see the same machine: the ratio holds even when its load changes
      const runs = Array.from({ length: RUNS }, () => [timeStep(moe), timeStep(dense)] as const);
      expect(tf.memory().numTensors).toBe(before);
      const moeMs = median(runs.map((r) => r[0]));
      const denseMs = median(runs.map((r) => r[1]));
      const { numTokens: T, dim: D, hidden: H, numExperts: E, k, capacityFactor } = config;
      console.log(
        `webgl training step, T=${T} D=${D} H=${H} E=${E} k=${k} capacity factor ${capacityFactor} (median of ${RUNS} after ${WARMUP} warm-up):\n` +
          `  padded MoE ${moeMs.toFixed(1)} ms | dense FFN ${denseMs.toFixed(1)} ms | MoE / dense ${(moeMs / denseMs).toFixed(2)}×`,
      );
      expect(Number.isFinite(moeMs / denseMs)).toBe(true);
    } finally {
      moe.dispose();
      dense.dispose();
      tf.env().set('WEBGL_USE_SHAPES_UNIFORMS', saved);
    }
  });
});
