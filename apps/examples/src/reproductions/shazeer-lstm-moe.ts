/**
 * Shazeer et al. 2017 (arXiv:1701.06538), Table 1 / Fig. 2-left: at equal active compute per token, the
 * LSTM-MoE language model reaches a lower validation perplexity than the dense LSTM, and more experts help.
 * Here: word-level Moby-Dick, a dense FFN of width k·H against MoEs of E = 4 and E = 8 experts of width H, k = 2.
 */
import * as tf from '@tensorflow/tfjs';
import { TopKRouter } from '@moekit/router-topk';
import { lstmDenseLanguageModel } from '../models/lstm-dense-language-model.js';
import { lstmMoELanguageModel } from '../models/lstm-moe-language-model.js';
import { mobyDickWindows } from '../models/moby-dick-windows.js';
import { runStamp } from '../run-stamp.js';

/** Runs the comparison and returns its RESULTS.md section. */
export async function run(options: { quick: boolean }): Promise<string> {
  const S = 16;
  const size = options.quick
    ? { vocabSize: 200, trainWindows: 64, validWindows: 32, dim: 16, hidden: 16, epochs: 1 }
    : { vocabSize: 2000, trainWindows: 2500, validWindows: 500, dim: 64, hidden: 64, epochs: 4 };
  const data = mobyDickWindows({ vocabSize: size.vocabSize, sequenceLength: S, trainWindows: size.trainWindows, validWindows: size.validWindows });
  const seed = 1;
  const fit = async (model: tf.LayersModel) => {
    const started = performance.now();
    const history = await model.fit(data.train.x, data.train.y, { epochs: size.epochs, batchSize: 32, verbose: 0, validationData: [data.valid.x, data.valid.y] });
    const val = history.history['val_loss'] as number[];
    return { perplexity: Math.exp(Math.min(...val)), seconds: (performance.now() - started) / 1000, parameters: model.countParams() };
  };
  const rows: { name: string; perplexity: number; parameters: number; active: number; seconds: number }[] = [];
  const dense = lstmDenseLanguageModel({ vocabSize: data.vocabSize, sequenceLength: S, dim: size.dim, hidden: 2 * size.hidden, seed });
  const d = await fit(dense);
  rows.push({ name: `dense LSTM (FFN width 2H = ${2 * size.hidden})`, ...d, active: d.parameters });
  dense.optimizer.dispose(); // compile() was given the optimizer, so dispose() leaves it (and its slots) alive
  dense.dispose();
  for (const E of [4, 8]) {
    const { model } = lstmMoELanguageModel({ vocabSize: data.vocabSize, sequenceLength: S, dim: size.dim, hidden: size.hidden, seed, router: new TopKRouter({ numExperts: E, k: 2, noise: 'shazeer', seed: seed + E }) });
    const r = await fit(model);
    const expertParameters = E * (2 * size.dim * size.hidden + size.hidden + size.dim); // FeedForwardExperts: W1 [D, H], b1 [H], W2 [H, D], b2 [D] per expert
    rows.push({ name: `LSTM-MoE, E = ${E}, k = 2, H = ${size.hidden}`, ...r, active: r.parameters - expertParameters + (2 / E) * expertParameters });
    model.optimizer.dispose(); // compile() was given the optimizer, so dispose() leaves it (and its slots) alive
    model.dispose();
  }
  data.dispose();
  const [denseRow, moe4, moe8] = rows as [typeof rows[0], typeof rows[0], typeof rows[0]];
  const beatsDense = moe4.perplexity < denseRow.perplexity && moe8.perplexity < denseRow.perplexity;
  const moreHelps = moe8.perplexity < moe4.perplexity;
  const verdict = beatsDense && moreHelps
    ? 'holds at this scale: both MoEs reach a lower validation perplexity than the dense LSTM of the same active compute, and 8 experts beat 4.'
    : `does not fully hold at this scale: ${beatsDense ? 'both MoEs beat the dense LSTM' : 'the MoEs do not both beat the dense LSTM'}, and ${moreHelps ? '8 experts beat 4' : '8 experts do not beat 4'}. With ${size.trainWindows * S} training tokens and ${size.epochs} epochs the models are data-limited (the paper trains on ~10^9 words), so extra expert capacity has little to fit and each expert sees fewer tokens.`;
  return [
    '## Shazeer et al. 2017: LSTM-MoE vs dense LSTM at equal active compute',
    '',
    `Command: \`npm run reproduce -- shazeer-lstm-moe${options.quick ? ' --quick' : ''}\`; seeds ${seed} (initialisers), ${seed + 4} / ${seed + 8} (routers). Word-level Moby-Dick, ${size.vocabSize}-word vocabulary, ${size.trainWindows} training / ${size.validWindows} validation windows of ${S} words (validation from the book's last tenth), D = ${size.dim}, ${size.epochs} epochs, Adam 0.01, batch 32; best validation perplexity over the epochs.`,
    '',
    '| model | validation perplexity | parameters | active parameters / token | train time |',
    '|---|---:|---:|---:|---:|',
    ...rows.map((r) => `| ${r.name} | ${r.perplexity.toFixed(2)} | ${r.parameters} | ${Math.round(r.active)} | ${r.seconds.toFixed(1)} s |`),
    '',
    runStamp(),
    '',
    `Verdict: ${verdict}`,
  ].join('\n');
}
