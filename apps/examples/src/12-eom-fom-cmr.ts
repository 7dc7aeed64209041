/**
 * 12 · regularising an MoE on little data (NLLB Team 2022 §6.2; Elbayad et al. 2023): the same causal
 * Transformer-MoE language model trained on a few Moby-Dick windows with plain dropout only, with Expert
 * Output Masking (`expertOutputMasking`), with Final Output Masking (`finalOutputMasking`) and with
 * Conditional MoE Routing (a `ConditionalMoEBranch` as the MoE's `shared` branch); each row gives the
 * training and validation cross-entropy and their gap, the over-fitting these methods target.
 */
import { mobyDickWindows } from './models/moby-dick-windows.js';
import { trainRegularizedLM, type MoERegularizer } from './models/regularized-moe-lm.js';

/** Runs the example; `quick` trains tiny models for one epoch. */
export async function run(options: { quick: boolean }): Promise<void> {
  const data = mobyDickWindows({ vocabSize: options.quick ? 200 : 1000, sequenceLength: 16, trainWindows: options.quick ? 32 : 200, validWindows: options.quick ? 16 : 200 });
  const rows: string[] = [];
  for (const regularizer of ['dropout', 'eom', 'fom', 'cmr'] as MoERegularizer[]) {
    const r = await trainRegularizedLM({ regularizer, vocabSize: data.vocabSize, width: options.quick ? 16 : 32, numExperts: 4, dropout: 0.1, rate: 0.2, epochs: options.quick ? 1 : 20, seed: 1 }, data);
    rows.push(`| ${regularizer} | ${r.train.crossEntropy.toFixed(3)} | ${r.valid.crossEntropy.toFixed(3)} | ${(r.valid.crossEntropy - r.train.crossEntropy).toFixed(3)} | [${r.valid.load.join(', ')}] |`);
  }
  data.dispose();
  console.log(['| MoE regulariser (+ dropout 0.1) | train CE | validation CE | gap | validation load per expert |', '|---|---:|---:|---:|---|', ...rows].join('\n'));
}
