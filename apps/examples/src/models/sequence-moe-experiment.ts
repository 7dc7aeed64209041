/**
 * Next-word models on Moby-Dick windows for two of issue 20's papers: a stack of Transformer MoE blocks
 * whose experts are shared across layers (Bai et al. 2022, arXiv:2209.08326) beside the same stack
 * unshared and a dense stack of equal parameters; and a shortcut-connected MoE block pair (ScMoE, Cai et
 * al. 2025, arXiv:2404.05019) beside a standard dense + top-2 MoE block pair of equal per-token compute.
 */
import * as tf from '@tensorflow/tfjs';
import { loadHealth, type LoadHealth } from '@moekit/core';
import { FeedForwardExperts, ShortcutMoEBlock, TransformerMoEBlock } from '@moekit/experts-ffn';
import type { MoELayer } from '@moekit/layers';
import { SwitchRouter } from '@moekit/router-switch';
import { TopKRouter } from '@moekit/router-topk';
import { mobyDickWindows } from './moby-dick-windows.js';
import { fitWithSeededShuffle } from './seeded-fit.js';

/** The models compared: the shared-experts stack and its baselines, the ScMoE pair and its baseline. */
export type SequenceVariant = 'shared' | 'unshared' | 'dense' | 'scmoe' | 'top2';

/** Sizes of a run. */
export interface SequenceExperimentOptions {
  /** Model width `D`. */
  dim: number;
  /** Blocks in the shared / unshared / dense stacks. */
  layers: number;
  /** Experts per MoE. */
  numExperts: number;
  /** Words kept (the rest map to one unknown id). */
  vocabSize: number;
  /** Window length `S`. */
  sequenceLength: number;
  trainWindows: number;
  validWindows: number;
  epochs: number;
  /** Seed of every initialiser (the windows are fixed). */
  seed: number;
}

/** One trained model's held-out numbers. */
export interface SequenceResult {
  variant: SequenceVariant;
  /** Trainable parameters, embedding and output layer included. */
  parameters: number;
  /** Held-out next-word cross-entropy (nats) and perplexity. */
  validLoss: number;
  validPerplexity: number;
  /** Held-out next-word accuracy. */
  validAccuracy: number;
  /** Routing at evaluation, per MoE layer: load health and the fraction of (token, expert) pairs dropped. */
  health: Array<LoadHealth & { dropped: number }>;
  seconds: number;
}

const ffnHidden = (dim: number) => 2 * dim;

/** One-expert MoE with a softmax gate over one expert (weight 1): a dense FFN of `hidden` units in the block's MoE slot. */
function denseFfn(dim: number, hidden: number, seed: number) {
  return { router: new TopKRouter({ numExperts: 1, k: 1, noise: 'none', gates: 'softmax', seed }), experts: new FeedForwardExperts({ numExperts: 1, inputDim: dim, hiddenDim: hidden, activation: 'gelu', seed: seed + 1 }), capacity: { train: 0, eval: 0 } };
}

/** The blocks between the embedding and the output layer, and their MoE layers (for health). */
function blocks(variant: SequenceVariant, o: SequenceExperimentOptions): { layers: tf.layers.Layer[]; moes: MoELayer[] } {
  const { dim, numExperts, seed } = o;
  const H = ffnHidden(dim);
  if (variant === 'scmoe') {
    // ScMoE: block l − 1 dense, block l's top-1 MoE on block l − 1's post-attention representation + a shared expert
    const pair = new ShortcutMoEBlock({ numHeads: 4, causal: true, hiddenDim: H, seed, moe: { router: new SwitchRouter({ numExperts, capacity: { train: 0, eval: 0 }, seed: seed + 100 }), experts: new FeedForwardExperts({ numExperts, inputDim: dim, hiddenDim: H, activation: 'gelu', seed: seed + 101 }) } });
    return { layers: [pair], moes: [pair.moe] };
  }
  if (variant === 'top2') {
    // the standard pair: a dense block, then a top-2 MoE block (the same FFN evaluations per token: 1 + 2)
    const dense = new TransformerMoEBlock({ numHeads: 4, causal: true, seed, moe: denseFfn(dim, H, seed + 200) });
    const sparse = new TransformerMoEBlock({ numHeads: 4, causal: true, seed: seed + 10, moe: { router: new TopKRouter({ numExperts, k: 2, seed: seed + 100 }), experts: new FeedForwardExperts({ numExperts, inputDim: dim, hiddenDim: H, activation: 'gelu', seed: seed + 101 }), capacity: { train: 0, eval: 0 } } });
    return { layers: [dense, sparse], moes: [sparse.moe] };
  }
  if (variant === 'dense') {
    // dense blocks whose FFN width gives the shared stack's parameter count: one bank E·(2·D·H + H + D) spread over L blocks, less the L routers' D·E
    const bank = numExperts * (2 * dim * H + H + dim);
    const hidden = Math.max(1, Math.round((bank / o.layers + dim * numExperts - dim) / (2 * dim + 1)));
    const layers = Array.from({ length: o.layers }, (_, l) => new TransformerMoEBlock({ numHeads: 4, causal: true, seed: seed + 10 * l, moe: denseFfn(dim, hidden, seed + 200 + l) }));
    return { layers, moes: [] };
  }
  // shared: one bank used by every block, each with its own router and norms (Bai et al. 2022, §2.3); unshared: a bank per block
  const bank = () => new FeedForwardExperts({ numExperts, inputDim: dim, hiddenDim: H, activation: 'gelu', seed: seed + 101 });
  const sharedBank = variant === 'shared' ? bank() : undefined;
  const layers = Array.from({ length: o.layers }, (_, l) => new TransformerMoEBlock({
    numHeads: 4, causal: true, seed: seed + 10 * l,
    moe: { router: new TopKRouter({ numExperts, k: 2, seed: seed + 100 + l }), experts: sharedBank ?? bank(), capacity: { train: 0, eval: 0 } },
  }));
  return { layers, moes: layers.map((b) => b.moe) };
}

/** Trains one variant with `fit` (Adam 3e-3, batch 32) and measures it on the held-out windows. */
export async function sequenceExperiment(variant: SequenceVariant, o: SequenceExperimentOptions): Promise<SequenceResult> {
  const started = performance.now();
  const data = mobyDickWindows({ vocabSize: o.vocabSize, sequenceLength: o.sequenceLength, trainWindows: o.trainWindows, validWindows: o.validWindows });
  const { layers, moes } = blocks(variant, o);
  const model = tf.sequential({
    layers: [
      tf.layers.embedding({ inputDim: data.vocabSize, outputDim: o.dim, inputLength: o.sequenceLength, embeddingsInitializer: tf.initializers.randomUniform({ minval: -0.05, maxval: 0.05, seed: o.seed + 300 }) }),
      ...layers,
      tf.layers.dense({ units: data.vocabSize, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: o.seed + 301 }) }),
    ],
  });
  const optimizer = tf.train.adam(3e-3);
  model.compile({ optimizer, loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
  await fitWithSeededShuffle(model, data.train.x, data.train.y, { epochs: o.epochs, batchSize: 32, seed: o.seed + 400 }); // a repeatable batch order
  const [loss, accuracy] = (model.evaluate(data.valid.x, data.valid.y, { batchSize: o.validWindows }) as tf.Scalar[]).map((t) => { const v = t.dataSync()[0]!; t.dispose(); return v; });
  // routing health at evaluation: the whole held-out set in one call, each MoE layer's own router
  tf.dispose(model.apply(data.valid.x, { training: false }) as tf.Tensor);
  const health = moes.map((m) => ({ ...loadHealth(m.lastMetrics!.load), dropped: m.lastMetrics!.droppedFraction }));
  const parameters = model.countParams();
  for (const m of moes) if (m.auxLoss && !m.auxLoss.isDisposed) m.auxLoss.dispose(); // kept for fit; nothing reads it now
  data.dispose();
  optimizer.dispose();
  model.dispose();
  return { variant, parameters, validLoss: loss!, validPerplexity: Math.exp(loss!), validAccuracy: accuracy!, health, seconds: (performance.now() - started) / 1000 };
}
