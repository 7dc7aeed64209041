/**
 * The LSTM language model of Shazeer et al. 2017 (§5.1, Fig. 1; Appendix C.1) with a pluggable middle
 * layer: Embedding → LSTM → middle (the MoE, or the dense FFN of the baseline) applied at every time
 * step → LSTM → softmax. As in Appendix C.1, every layer but the softmax has dropout on its output and,
 * after the dropout, a residual connection adds the layer's input (all widths are `D`).
 */
import * as tf from '@tensorflow/tfjs';

/** Sizes and training settings of {@link lstmLanguageModel}. */
export interface LstmLanguageModelOptions {
  /** Vocabulary size `V`. */
  vocabSize: number;
  /** Tokens per training sequence `S`. */
  sequenceLength: number;
  /** Embedding, LSTM and middle-layer width `D`. */
  dim: number;
  /** Dropout probability on each layer's output (Appendix C.1's DropProb). Default 0.1. */
  dropout?: number;
  /** Adam's learning rate. Default 0.01. */
  learningRate?: number;
  /** Seed of the initialisers and the dropout masks. Default 0. */
  seed?: number;
}

/** Builds and compiles (Adam, sparse cross-entropy) the model around `middle`, a layer `[B, S, D] → [B, S, D]`. */
export function lstmLanguageModel(o: LstmLanguageModelOptions, middle: (h: tf.SymbolicTensor) => tf.SymbolicTensor): tf.LayersModel {
  const seed = o.seed ?? 0;
  const rate = o.dropout ?? 0.1;
  const init = (s: number) => tf.initializers.glorotUniform({ seed: seed + s });
  const dropout = (s: number) => tf.layers.dropout({ rate, seed: seed + 100 + s });
  // a layer's dropped-out output plus its input (Appendix C.1's residual connection)
  const residual = (h: tf.SymbolicTensor, out: tf.SymbolicTensor, s: number) => tf.layers.add().apply([h, dropout(s).apply(out) as tf.SymbolicTensor]) as tf.SymbolicTensor;
  const input = tf.input({ shape: [o.sequenceLength] }); // [B, S] word ids
  const embedded = tf.layers.embedding({ inputDim: o.vocabSize, outputDim: o.dim, embeddingsInitializer: tf.initializers.randomUniform({ minval: -0.05, maxval: 0.05, seed }) }).apply(input) as tf.SymbolicTensor; // [B, S, D]
  const h0 = dropout(0).apply(embedded) as tf.SymbolicTensor; // [B, S, D]
  const lstm = (s: number) => tf.layers.lstm({ units: o.dim, returnSequences: true, kernelInitializer: init(s), recurrentInitializer: init(s + 1) });
  const h1 = residual(h0, lstm(2).apply(h0) as tf.SymbolicTensor, 1); // [B, S, D]
  const h2 = residual(h1, middle(h1), 2); // [B, S, D]
  const h3 = residual(h2, lstm(4).apply(h2) as tf.SymbolicTensor, 3); // [B, S, D]
  const output = tf.layers.dense({ units: o.vocabSize, activation: 'softmax', kernelInitializer: init(6) }).apply(h3) as tf.SymbolicTensor; // [B, S, V]
  const model = tf.model({ inputs: input, outputs: output });
  model.compile({ optimizer: tf.train.adam(o.learningRate ?? 0.01), loss: 'sparseCategoricalCrossentropy' });
  return model;
}
