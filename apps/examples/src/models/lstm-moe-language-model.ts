/**
 * The LSTM language model of Shazeer et al. 2017 (§5.1, Fig. 1): Embedding → LSTM → MoE applied at
 * every time step → LSTM → softmax over the vocabulary, as a tfjs-layers model that trains with `fit`.
 */
import * as tf from '@tensorflow/tfjs';
import { MoELayer, type Router } from '@moekit/core';
import { FeedForwardExperts } from '@moekit/experts-ffn';

/** Sizes of {@link lstmMoELanguageModel}. */
export interface LstmMoELanguageModelOptions {
  /** Vocabulary size. */
  vocabSize: number;
  /** Tokens per training sequence. */
  sequenceLength: number;
  /** Embedding and LSTM width `D`. */
  dim: number;
  /** Expert hidden width `H`. */
  hidden: number;
  /** The MoE's router (its `numExperts` sets `E`). */
  router: Router;
  /** Capacity factor while training. Default 1.25. */
  capacityFactor?: number;
  /** Seed of the initialisers. Default 0. */
  seed?: number;
}

/** Builds (and compiles with Adam and sparse cross-entropy) the LSTM-MoE language model. */
export function lstmMoELanguageModel(o: LstmMoELanguageModelOptions): { model: tf.Sequential; moe: MoELayer } {
  const seed = o.seed ?? 0;
  const moe = new MoELayer({
    router: o.router,
    experts: new FeedForwardExperts({ numExperts: o.router.numExperts, inputDim: o.dim, hiddenDim: o.hidden, seed: seed + 1 }),
    capacity: { train: o.capacityFactor ?? 1.25 },
    name: 'moe',
  });
  const init = (s: number) => tf.initializers.glorotUniform({ seed: seed + s });
  const model = tf.sequential({
    layers: [
      tf.layers.embedding({ inputDim: o.vocabSize, outputDim: o.dim, inputLength: o.sequenceLength, embeddingsInitializer: tf.initializers.randomUniform({ minval: -0.05, maxval: 0.05, seed }) }),
      tf.layers.lstm({ units: o.dim, returnSequences: true, kernelInitializer: init(2), recurrentInitializer: init(3) }),
      moe, // applied at every time step: [B, S, D] routed per position
      tf.layers.lstm({ units: o.dim, returnSequences: true, kernelInitializer: init(4), recurrentInitializer: init(5) }),
      tf.layers.dense({ units: o.vocabSize, activation: 'softmax', kernelInitializer: init(6) }),
    ],
  });
  model.compile({ optimizer: tf.train.adam(0.01), loss: 'sparseCategoricalCrossentropy' });
  return { model, moe };
}
