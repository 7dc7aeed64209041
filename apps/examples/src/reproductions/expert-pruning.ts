/**
 * Chowdhury et al. 2024 (arXiv:2405.16646): at 50% pruning, the router-change criterion keeps more
 * accuracy than random and load-based pruning.
 */
import { pruningExperiment } from '../models/pruning-experiment.js';
import { runStamp } from '../run-stamp.js';

/** Runs the experiment and returns its RESULTS.md section. */
export async function run(options: { quick: boolean }): Promise<string> {
  const o = options.quick
    ? { pretrainSize: 300, finetuneSize: 300, testSize: 200, epochs: 1, experts: 8, dim: 32, ratios: [0, 0.5], seed: 1 }
    : { pretrainSize: 10000, finetuneSize: 10000, testSize: 5000, epochs: 4, experts: 8, dim: 32, ratios: [0, 0.25, 0.5, 0.75], seed: 1 };
  const r = await pruningExperiment(o);
  const at = (criterion: string) => r.rows.find((row) => row.criterion === criterion && row.ratio === 0.5)!.accuracy;
  const [change, random, load] = [at('routerChange'), at('random'), at('load')];
  const verdict = change > random && change > load
    ? `holds at this scale: at 50% pruning the router-change criterion keeps ${change.toFixed(4)} accuracy against ${random.toFixed(4)} (random) and ${load.toFixed(4)} (load).`
    : `does not hold at this scale: at 50% pruning the router-change criterion keeps ${change.toFixed(4)} accuracy against ${random.toFixed(4)} (random) and ${load.toFixed(4)} (load). A likely reason, not tested here: the paper's guarantee is for a simplified binary-classification MoE, and with V-MoE's full-softmax gates every expert's router vector gets gradient through the softmax denominator, so its norm can grow for experts the task never chooses (see the per-expert scores).`;
  return [
    '## Expert pruning (Chowdhury et al. 2024): router-change criterion at 50%',
    '',
    `Command: \`npm run reproduce -- expert-pruning${options.quick ? ' --quick' : ''}\`; seed ${o.seed}. As \`@moekit/pruning\`'s reduced test, larger: 784 → ${o.dim} ReLU projection, MoE of ${o.experts} FFN experts (${o.dim} → ${o.dim} → ${o.dim}) behind V-MoE's router (top-2, Gaussian noise, softmax gates), dropless, linear head; pretrained ${o.epochs} epochs on the first ${o.pretrainSize} MNIST training images (ten digits), fine-tuned ${o.epochs} epochs on the digits 0–4 among the next ${o.finetuneSize} (new 5-way head, everything trained), tested on the ${r.testCount} images of digits 0–4 among the first ${o.testSize} test images. Calibration for load / importance: the MoE's inputs for 500 fine-tuning images.`,
    '',
    `Unpruned accuracy ${r.fullAccuracy.toFixed(4)}. Per-expert scores (experts 0–${o.experts - 1}):`,
    '',
    '```',
    r.scores,
    '```',
    '',
    r.table,
    '',
    runStamp(),
    '',
    `Verdict: ${verdict}`,
  ].join('\n');
}
