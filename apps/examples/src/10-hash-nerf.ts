/**
 * 10 · hash-grid NeRF (Switch-NeRF++): heterogeneous hash-grid experts behind a hash gate, trained on the
 * synthetic scene, beside a single hash grid of about the same parameter count.
 */
import { formatNeRFResults, nerfExperiment } from './models/nerf-experiment.js';

/** Runs the example; `quick` trains a few steps on tiny views. */
export async function run(options: { quick: boolean }): Promise<void> {
  const results = nerfExperiment(options.quick
    ? { views: 4, size: 8, samples: 12, steps: 5, batch: 64, seed: 1 }
    : { views: 8, size: 16, samples: 24, steps: 150, batch: 256, seed: 1 });
  console.log(formatNeRFResults(results));
}
