/**
 * 06 · V-MoE's test-time capacity trade-off (Riquelme et al. 2021 §4.1, Fig. 6): train a one-block
 * V-MoE over 16 patch tokens per MNIST image once, then shrink the experts' capacity at test time and
 * compare vanilla routing (tokens placed in batch order) with Batch Priority Routing (most confident
 * tokens first).
 */
import { formatSweep, vmoeCapacitySweep } from './models/vmoe-mnist.js';

/** Runs the example; `quick` trains on a few hundred images. */
export async function run(options: { quick: boolean }): Promise<void> {
  const { points, dropless, seconds } = vmoeCapacitySweep({
    trainSize: options.quick ? 500 : 5000, testSize: options.quick ? 250 : 2000, epochs: options.quick ? 1 : 3,
    dim: 32, experts: 8, ratios: [0.1, 0.25, 0.5, 1, 1.5], seed: 1,
  });
  console.log(`trained in ${seconds.toFixed(1)} s; dropless test accuracy ${dropless.accuracy.toFixed(4)}; by test-time capacity ratio:\n${formatSweep(points)}`);
}
