/**
 * The LSTM-MoE language model of Shazeer et al. 2017 (§5.1, Fig. 1): Embedding → LSTM → MoE applied at
 * every time step → LSTM → softmax, with Appendix C.1's dropout and residual connections, as a
 * tfjs-layers model that trains with `fit`. Shazeer's MoE has no capacity limit, so it is dropless by
 * default, in training and in evaluation.
 */
import * as tf from '@tensorflow/tfjs';
import { type CapacityConfig, type Router } from '@moekit/core';
import { MoELayer } from '@moekit/layers';
import { FeedForwardExperts } from '@moekit/experts-ffn';
import { lstmLanguageModel, type LstmLanguageModelOptions } from './lstm-language-model.js';

/** Sizes of {@link lstmMoELanguageModel}. */
export interface LstmMoELanguageModelOptions extends LstmLanguageModelOptions {
  /** Expert hidden width `H`. */
  hidden: number;
  /** The MoE's router (its `numExperts` sets `E`). */
  router: Router;
  /** The MoE's capacity. Default dropless in training and evaluation (`{ train: 0, eval: 0 }`), as the paper's MoE. */
  capacity?: CapacityConfig;
}

/** Builds (and compiles with Adam and sparse cross-entropy) the LSTM-MoE language model. */
export function lstmMoELanguageModel(o: LstmMoELanguageModelOptions): { model: tf.LayersModel; moe: MoELayer } {
  const seed = o.seed ?? 0;
  const moe = new MoELayer({
    router: o.router,
    experts: new FeedForwardExperts({ numExperts: o.router.numExperts, inputDim: o.dim, hiddenDim: o.hidden, seed: seed + 1 }),
    capacity: o.capacity ?? { train: 0, eval: 0 },
    name: 'moe',
  });
  const model = lstmLanguageModel(o, (h) => moe.apply(h) as tf.SymbolicTensor); // routed per position: [B, S, D] → [B, S, D]
  return { model, moe };
}
