/**
 * 08 · expert pruning (Chowdhury et al. 2024): pretrain an MoE on MNIST, fine-tune it on the digits 0–4,
 * then prune experts by the change of their router weights' l2 norm and by the baselines, and compare
 * the pruned models' accuracy.
 */
import { formatPruningReport } from '@moekit/pruning';
import { pruningExperiment } from './models/pruning-experiment.js';

/** Runs the example; `quick` trains on a few hundred images. */
export async function run(options: { quick: boolean }): Promise<void> {
  const r = await pruningExperiment({
    pretrainSize: options.quick ? 300 : 3000, finetuneSize: options.quick ? 400 : 3000, testSize: options.quick ? 200 : 1000,
    epochs: options.quick ? 2 : 4, experts: 8, dim: 32, ratios: [0.25, 0.5, 0.75], peakLearningRate: 0.03, adamAblation: false, seed: 1,
  });
  const scores = `routerChange: ${r.scores.routerChange.map((v) => v.toFixed(3)).join(' ')}\nload: ${r.scores.load.join(' ')}`;
  console.log(`digits 0-4, ${r.testCount} test images, unpruned accuracy ${r.fullAccuracy.toFixed(4)}\nper-expert scores (experts 0-7):\n${scores}\n\n${formatPruningReport(r.rows)}`);
}
