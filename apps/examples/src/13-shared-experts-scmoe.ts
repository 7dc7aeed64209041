/**
 * 13 · experts shared across layers (Bai et al. 2022) and the shortcut-connected MoE (ScMoE, Cai et al.
 * 2025): next-word models on Moby-Dick whose MoE blocks share one expert bank — counted once, each
 * block with its own router and norms — beside a bank per block, and a ScMoE block pair beside the
 * standard dense + top-2 pair.
 */
import { sequenceExperiment, type SequenceVariant } from './models/sequence-moe-experiment.js';

/** Runs the example; `quick` trains tiny models for one epoch on a few windows. */
export async function run(options: { quick: boolean }): Promise<void> {
  const o = options.quick
    ? { dim: 16, layers: 2, numExperts: 4, vocabSize: 100, sequenceLength: 16, trainWindows: 32, validWindows: 16, epochs: 1, seed: 1 }
    : { dim: 32, layers: 4, numExperts: 8, vocabSize: 500, sequenceLength: 16, trainWindows: 1000, validWindows: 200, epochs: 2, seed: 1 };
  const lines = ['| model | parameters | held-out perplexity | load CV per MoE layer |', '|---|---:|---:|---|'];
  for (const variant of ['shared', 'unshared', 'scmoe', 'top2'] as SequenceVariant[]) {
    const r = await sequenceExperiment(variant, { ...o, layers: variant === 'scmoe' || variant === 'top2' ? 2 : o.layers });
    lines.push(`| ${variant} | ${r.parameters} | ${r.validPerplexity.toFixed(1)} | ${r.health.map((h) => h.cv.toFixed(2)).join(' / ')} |`);
  }
  console.log(lines.join('\n'));
}
