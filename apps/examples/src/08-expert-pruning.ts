/**
 * 08 · expert pruning (Chowdhury et al. 2024): pretrain an MoE on MNIST, fine-tune it on the digits 0–4,
 * then prune experts by the change of their router weights' l2 norm and by the baselines, and compare
 * the pruned models' accuracy.
 */
import { pruningExperiment } from './models/pruning-experiment.js';

/** Runs the example; `quick` trains on a few hundred images. */
export async function run(options: { quick: boolean }): Promise<void> {
  const r = await pruningExperiment({
    pretrainSize: options.quick ? 300 : 3000, finetuneSize: options.quick ? 300 : 3000, testSize: options.quick ? 200 : 1000,
    epochs: options.quick ? 1 : 4, experts: 8, dim: 32, ratios: [0, 0.25, 0.5, 0.75], seed: 1,
  });
  console.log(`digits 0-4, ${r.testCount} test images, unpruned accuracy ${r.fullAccuracy.toFixed(4)}\nper-expert scores (experts 0-7):\n${r.scores}\n\n${r.table}`);
}
