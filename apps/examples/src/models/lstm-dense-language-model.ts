/**
 * The dense baseline of Shazeer et al. 2017 §5.1: the LSTM-MoE language model with the MoE replaced by
 * one FFN whose hidden width is `k·H`, so each token costs what the MoE's `k` experts of width `H` cost.
 */
import * as tf from '@tensorflow/tfjs';
import { lstmLanguageModel, type LstmLanguageModelOptions } from './lstm-language-model.js';

/** Sizes of {@link lstmDenseLanguageModel}. */
export interface LstmDenseLanguageModelOptions extends LstmLanguageModelOptions {
  /** FFN hidden width (`k·H` for equal active compute). */
  hidden: number;
}

/** Builds (and compiles with Adam and sparse cross-entropy) Embedding → LSTM → FFN at every step → LSTM → softmax, with dropout and residuals. */
export function lstmDenseLanguageModel(o: LstmDenseLanguageModelOptions): tf.LayersModel {
  const seed = o.seed ?? 0;
  return lstmLanguageModel(o, (h) => {
    const hidden = tf.layers.dense({ units: o.hidden, activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 7 }) }).apply(h); // [B, S, kH]
    return tf.layers.dense({ units: o.dim, kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 8 }) }).apply(hidden) as tf.SymbolicTensor; // [B, S, D]
  });
}
