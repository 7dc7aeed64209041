/**
 * 05 · a Transformer with a Switch FFN (Fedus et al. 2021): a causal `TransformerMoEBlock` whose FFN is
 * a Switch top-1 MoE, trained with `fit` as a next-word model on Moby-Dick.
 */
import * as tf from '@tensorflow/tfjs';
import { FeedForwardExperts, TransformerMoEBlock } from '@moekit/experts-ffn';
import { SwitchRouter } from '@moekit/router-switch';
import { mobyDickWindows } from './models/moby-dick-windows.js';

/** Runs the example; `quick` trains a tiny model on a few windows. */
export async function run(options: { quick: boolean }): Promise<void> {
  const S = 16;
  const D = options.quick ? 16 : 64;
  const data = mobyDickWindows({ vocabSize: options.quick ? 200 : 2000, sequenceLength: S, trainWindows: options.quick ? 64 : 2000, validWindows: options.quick ? 32 : 400 });
  const block = new TransformerMoEBlock({
    numHeads: 4, causal: true, seed: 1,
    moe: {
      router: new SwitchRouter({ numExperts: 8, capacity: { train: 1.25, eval: 2 }, zLossWeight: 1e-3, seed: 2 }), // Switch top-1 with ST-MoE's z-loss
      experts: new FeedForwardExperts({ numExperts: 8, inputDim: D, hiddenDim: 2 * D, seed: 3 }),
    },
  });
  const model = tf.sequential({
    layers: [
      tf.layers.embedding({ inputDim: data.vocabSize, outputDim: D, inputLength: S }),
      block,
      tf.layers.dense({ units: data.vocabSize, activation: 'softmax' }),
    ],
  });
  model.compile({ optimizer: tf.train.adam(3e-3), loss: 'sparseCategoricalCrossentropy' });
  const history = await model.fit(data.train.x, data.train.y, { epochs: options.quick ? 1 : 4, batchSize: 32, verbose: 0, validationData: [data.valid.x, data.valid.y] });
  const val = history.history['val_loss'] as number[];
  const moe = block.moe;
  console.log(`Switch Transformer block on Moby-Dick (${data.vocabSize} words, windows of ${S}): validation perplexity ${val.map((l) => Math.exp(l).toFixed(1)).join(' -> ')}; last batch: load [${moe.lastMetrics?.load.join(', ')}], dropped ${(100 * (moe.lastMetrics?.droppedFraction ?? 0)).toFixed(1)}%`);
  data.dispose();
  if (moe.auxLoss && !moe.auxLoss.isDisposed) moe.auxLoss.dispose(); // the block keeps the last call's aux loss for fit; nothing reads it now
  model.optimizer.dispose(); // compile() was given the optimizer, so dispose() leaves it (and its slots) alive
  model.dispose();
}
