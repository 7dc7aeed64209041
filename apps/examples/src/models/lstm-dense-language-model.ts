/**
 * The dense baseline of Shazeer et al. 2017 §5.1: the LSTM-MoE language model with the MoE replaced by
 * one FFN whose hidden width is `k·H`, so each token costs what the MoE's `k` experts of width `H` cost.
 */
import * as tf from '@tensorflow/tfjs';

/** Sizes of {@link lstmDenseLanguageModel}. */
export interface LstmDenseLanguageModelOptions {
  /** Vocabulary size. */
  vocabSize: number;
  /** Tokens per training sequence. */
  sequenceLength: number;
  /** Embedding and LSTM width `D`. */
  dim: number;
  /** FFN hidden width (`k·H` for equal active compute). */
  hidden: number;
  /** Seed of the initialisers. Default 0. */
  seed?: number;
}

/** Builds (and compiles with Adam and sparse cross-entropy) Embedding → LSTM → FFN at every step → LSTM → softmax. */
export function lstmDenseLanguageModel(o: LstmDenseLanguageModelOptions): tf.Sequential {
  const seed = o.seed ?? 0;
  const init = (s: number) => tf.initializers.glorotUniform({ seed: seed + s });
  const model = tf.sequential({
    layers: [
      tf.layers.embedding({ inputDim: o.vocabSize, outputDim: o.dim, inputLength: o.sequenceLength, embeddingsInitializer: tf.initializers.randomUniform({ minval: -0.05, maxval: 0.05, seed }) }),
      tf.layers.lstm({ units: o.dim, returnSequences: true, kernelInitializer: init(2), recurrentInitializer: init(3) }),
      tf.layers.dense({ units: o.hidden, activation: 'relu', kernelInitializer: init(7) }), // the FFN, per time step: D → kH → D
      tf.layers.dense({ units: o.dim, kernelInitializer: init(8) }),
      tf.layers.lstm({ units: o.dim, returnSequences: true, kernelInitializer: init(4), recurrentInitializer: init(5) }),
      tf.layers.dense({ units: o.vocabSize, activation: 'softmax', kernelInitializer: init(6) }),
    ],
  });
  model.compile({ optimizer: tf.train.adam(0.01), loss: 'sparseCategoricalCrossentropy' });
  return model;
}
