/**
 * A small causal Transformer-MoE language model with one of the MoE regularisers of NLLB / Elbayad et al.
 * 2023 — plain dropout only, Expert Output Masking, Final Output Masking or Conditional MoE Routing — shared
 * by ladder step 12 and the `eom-fom` reproduction.
 */
import * as tf from '@tensorflow/tfjs';
import { ConditionalMoEBranch, FeedForwardExperts, TransformerMoEBlock } from '@moekit/experts-ffn';
import type { MoELayerArgs } from '@moekit/layers';
import { TopKRouter } from '@moekit/router-topk';
import { evaluateRouted, type RoutedEvaluation } from './routed-evaluation.js';
import type { WindowSplit } from './moby-dick-windows.js';

/** Which regulariser the MoE gets on top of the shared dropout. */
export type MoERegularizer = 'dropout' | 'eom' | 'fom' | 'cmr';

/** Options of {@link trainRegularizedLM}. */
export interface RegularizedLMOptions {
  /** The regulariser. */
  regularizer: MoERegularizer;
  /** Vocabulary size `V`. */
  vocabSize: number;
  /** Model width `D`. */
  width: number;
  /** Experts `E` (top-2). */
  numExperts: number;
  /** Dropout rate after the embedding and after the block (every variant). */
  dropout: number;
  /** Rate of EOM / FOM / CMR gate dropout for the variant that has it. */
  rate: number;
  /** Training epochs over the windows. */
  epochs: number;
  /** Seed of every initialiser and mask. */
  seed: number;
}

/** What one trained model measured. */
export interface RegularizedLMResult {
  /** The regulariser. */
  regularizer: MoERegularizer;
  /** Cross-entropy (nats) and routing over the training windows, in evaluation mode. */
  train: RoutedEvaluation;
  /** Cross-entropy (nats) and routing over the validation windows. */
  valid: RoutedEvaluation;
  /** Wall-clock seconds of training. */
  seconds: number;
}

/** The MoE of a variant: top-2 over `E` FFN experts, with EOM, FOM or a CMR branch as asked. */
function moeArgs(o: RegularizedLMOptions): MoELayerArgs {
  const base: MoELayerArgs = {
    router: new TopKRouter({ numExperts: o.numExperts, k: 2, seed: o.seed + 10 }),
    experts: new FeedForwardExperts({ numExperts: o.numExperts, inputDim: o.width, hiddenDim: 2 * o.width, seed: o.seed + 11 }),
    capacity: { train: 0, eval: 0 }, // dropless: the comparison is about over-fitting, not capacity drops
  };
  if (o.regularizer === 'eom') return { ...base, expertOutputMasking: { rate: o.rate, seed: o.seed + 12 } };
  if (o.regularizer === 'fom') return { ...base, finalOutputMasking: { rate: o.rate, seed: o.seed + 12 } };
  if (o.regularizer === 'cmr') return { ...base, shared: new ConditionalMoEBranch({ hiddenDim: 2 * o.width, gateDropout: o.rate, seed: o.seed + 12 }) };
  return base;
}

/** Trains the variant with `fit` on `train` and evaluates it on both splits; disposes of the model. */
export async function trainRegularizedLM(o: RegularizedLMOptions, data: { train: WindowSplit; valid: WindowSplit }): Promise<RegularizedLMResult> {
  const S = data.train.x.shape[1];
  const block = new TransformerMoEBlock({ numHeads: 4, causal: true, seed: o.seed, moe: moeArgs(o) });
  const model = tf.sequential({
    layers: [
      tf.layers.embedding({ inputDim: o.vocabSize, outputDim: o.width, inputLength: S, embeddingsInitializer: tf.initializers.randomUniform({ minval: -0.05, maxval: 0.05, seed: o.seed }) }),
      tf.layers.dropout({ rate: o.dropout, seed: o.seed + 1 }),
      block,
      tf.layers.dropout({ rate: o.dropout, seed: o.seed + 2 }),
      tf.layers.dense({ units: o.vocabSize, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: o.seed + 3 }) }),
    ],
  });
  model.compile({ optimizer: tf.train.adam(3e-3), loss: 'sparseCategoricalCrossentropy' });
  const started = performance.now();
  await model.fit(data.train.x, data.train.y, { epochs: o.epochs, batchSize: 16, verbose: 0, shuffle: false });
  const seconds = (performance.now() - started) / 1000;
  const train = evaluateRouted(model, data.train.x, data.train.y, { batchSize: 64, moe: block.moe });
  const valid = evaluateRouted(model, data.valid.x, data.valid.y, { batchSize: 64, moe: block.moe });
  const moe = block.moe;
  if (moe.auxLoss && !moe.auxLoss.isDisposed) moe.auxLoss.dispose(); // the block keeps the last call's aux loss for fit; nothing reads it now
  model.optimizer.dispose();
  model.dispose();
  return { regularizer: o.regularizer, train, valid, seconds };
}
