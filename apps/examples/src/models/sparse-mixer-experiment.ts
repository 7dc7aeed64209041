/**
 * The Sparse Mixer experiment shared by ladder step 15 and the `sparse-mixer` reproduction: two BERT-style
 * encoders of the same width, depth and MoE layers — one with self-attention in every block, one with
 * Sparse Mixer's layout (learned linear mixing, attention only in the top block) — trained side by side on
 * a synthetic sequence-classification task that needs token mixing (the label is read from the first
 * position only, as BERT's pooler does), timing every training step.
 */
import * as tf from '@tensorflow/tfjs';
import { GatedRouter, LinearGate } from '@moekit/core';
import { ExpertChoice } from '@moekit/router-balanced';
import { LayerNorm, SparseMixerBlock, sparseMixerLayout, type SparseMixerLayerKind } from '@moekit/transformer';
import { mulberry32 } from './mulberry32.js';

/** The two encoders compared. */
export type EncoderVariant = 'attention + MoE' | 'Sparse Mixer';

/** Sizes of one run. */
export interface SparseMixerExperimentOptions {
  /** Model width `D`, the same for both encoders. */
  dim: number;
  /** Encoder blocks `L`. */
  layers: number;
  /** Blocks with an MoE FFN (placed in the middle, as the reference's `moe_layout`). */
  moeLayers: number;
  /** Attention blocks of the Sparse Mixer (placed on top, as the reference's `attention_layout`). */
  mixerAttentionLayers: number;
  /** Experts per MoE layer. */
  numExperts: number;
  /** Sequence length `S`. */
  seqLen: number;
  /** Token vocabulary (≥ classes). */
  vocabSize: number;
  /** Classes: the label is the most frequent of tokens `0 … classes−1` (ties to the lowest). */
  classes: number;
  /** Training and held-out sequences. */
  trainSamples: number;
  testSamples: number;
  /** Batch size and Adam steps (learning rate `lr`). */
  batch: number;
  steps: number;
  lr: number;
  /** Seed of the data, the batch order and every initialiser. */
  seed: number;
}

/** What one encoder measured. */
export interface EncoderResult {
  variant: EncoderVariant;
  /** Per-layer sublayers. */
  layout: SparseMixerLayerKind[];
  parameters: number;
  /** Median wall time of one training step (forward, backward, Adam update, loss read), ms. */
  medianStepMs: number;
  /** Held-out accuracy. */
  testAccuracy: number;
  /** Mean training loss (cross entropy + aux) over the last tenth of the steps. */
  finalTrainLoss: number;
  /** Held-out load per expert, summed over the MoE layers (kept (token, expert) pairs). */
  load: number[];
  /** Held-out fraction of tokens no expert processed, mean over the MoE layers (expert choice's drops). */
  tokensWithoutExpert: number;
}

/** `n` sequences of uniform tokens and their labels: the most frequent of tokens `0 … classes−1`. */
function majorityData(n: number, o: SparseMixerExperimentOptions, random: () => number): { ids: Int32Array; labels: Int32Array } {
  const ids = new Int32Array(n * o.seqLen);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const counts = new Array<number>(o.classes).fill(0);
    for (let s = 0; s < o.seqLen; s++) {
      const token = Math.floor(random() * o.vocabSize);
      ids[i * o.seqLen + s] = token;
      if (token < o.classes) counts[token]!++;
    }
    labels[i] = counts.indexOf(Math.max(...counts));
  }
  return { ids, labels };
}

/** A BERT-style encoder classifier: token + learned position embeddings, LayerNorm, the blocks, a tanh pooler on position 0, a linear head. */
class EncoderClassifier {
  readonly blocks: SparseMixerBlock[];
  readonly embedNorm: LayerNorm;
  private readonly own: tf.Variable[];

  constructor(readonly layout: SparseMixerLayerKind[], o: SparseMixerExperimentOptions, seed: number) {
    const D = o.dim;
    let s = seed * 1000;
    const normal = (shape: number[]) => tf.tidy(() => tf.variable(tf.randomNormal(shape, 0, 0.02, 'float32', ++s))); // tidy: the initial value is the variable's, not a second tensor
    this.own = [normal([o.vocabSize, D]), normal([o.seqLen, D]), normal([D, D]), tf.tidy(() => tf.variable(tf.zeros([D]))), normal([D, o.classes]), tf.tidy(() => tf.variable(tf.zeros([o.classes])))];
    this.embedNorm = new LayerNorm({ dim: D });
    this.blocks = layout.map((kind) => {
      const blockSeed = ++s;
      // experts-choose routing with capacity factor 1, as the reference's default dispatch (MASK_EXPERTS_CHOOSE, train/eval_capacity_factor 1)
      const router = kind.feedForward === 'moe' ? new GatedRouter({ gate: new LinearGate({ numOutputs: o.numExperts, inputDim: D, seed: blockSeed + 0.5 }), algorithm: new ExpertChoice({ numExperts: o.numExperts, capacityFactor: 1 }) }) : undefined;
      return new SparseMixerBlock({ hiddenSize: D, seqLen: o.seqLen, ...kind, numHeads: 4, intermediateSize: 2 * D, numExperts: o.numExperts, router, seed: blockSeed });
    });
  }

  variables(): tf.Variable[] {
    return [...this.own, ...this.embedNorm.namedVariables().map(([, v]) => v), ...this.blocks.flatMap((b) => b.namedVariables().map(([, v]) => v))];
  }

  /** Logits `[B, classes]` and the summed aux loss. */
  forward(ids: tf.Tensor2D, training: boolean): { logits: tf.Tensor2D; aux: tf.Scalar } {
    const [tokenTable, positionTable, poolKernel, poolBias, headKernel, headBias] = this.own as [tf.Variable, tf.Variable, tf.Variable, tf.Variable, tf.Variable, tf.Variable];
    const [B, S] = ids.shape;
    let h = this.embedNorm.apply(tf.add(tf.reshape(tf.gather(tokenTable, tf.reshape(ids, [-1])), [B, S, -1]), positionTable)) as tf.Tensor3D; // [B, S, D]
    let aux: tf.Scalar = tf.scalar(0);
    for (const block of this.blocks) {
      const out = block.apply(h, { training });
      h = out.output;
      aux = tf.add(aux, out.auxLoss);
    }
    const first = tf.reshape(tf.slice(h, [0, 0, 0], [B, 1, -1]), [B, -1]) as tf.Tensor2D; // [B, D]
    const pooled = tf.tanh(tf.add(tf.matMul(first, poolKernel as tf.Tensor2D), poolBias)) as tf.Tensor2D; // [B, D]
    return { logits: tf.add(tf.matMul(pooled, headKernel as tf.Tensor2D), headBias) as tf.Tensor2D, aux };
  }

  dispose(): void {
    tf.dispose(this.own);
    this.embedNorm.dispose();
    for (const b of this.blocks) b.dispose();
  }
}

/** The median of a list. */
function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/**
 * Trains both encoders on the same data and batches, alternating which goes first at every step so
 * that both share the machine's state alike, and returns one result per encoder.
 */
export function sparseMixerExperiment(o: SparseMixerExperimentOptions): EncoderResult[] {
  const random = mulberry32(o.seed);
  const train = majorityData(o.trainSamples, o, random);
  const test = majorityData(o.testSamples, o, random);
  const layouts: [EncoderVariant, SparseMixerLayerKind[]][] = [
    ['attention + MoE', sparseMixerLayout({ numLayers: o.layers, numAttentionLayers: o.layers, numMoeLayers: o.moeLayers })],
    ['Sparse Mixer', sparseMixerLayout({ numLayers: o.layers, mixing: 'linear', numAttentionLayers: o.mixerAttentionLayers, numMoeLayers: o.moeLayers })],
  ];
  const models = layouts.map(([, layout]) => new EncoderClassifier(layout, o, o.seed));
  const optimizers = models.map(() => tf.train.adam(o.lr));
  const stepMs: number[][] = models.map(() => []);
  const losses: number[][] = models.map(() => []);
  const order = mulberry32(o.seed + 7919);
  for (let step = 0; step < o.steps; step++) {
    const rows = Array.from({ length: o.batch }, () => Math.floor(order() * o.trainSamples));
    const ids = tf.tensor2d(rows.flatMap((r) => Array.from(train.ids.subarray(r * o.seqLen, (r + 1) * o.seqLen))), [o.batch, o.seqLen], 'int32');
    const labels = tf.tidy(() => tf.oneHot(tf.tensor1d(rows.map((r) => train.labels[r]!), 'int32'), o.classes)); // [B, classes]
    const turn = step % 2 === 0 ? [0, 1] : [1, 0];
    for (const m of turn) {
      const model = models[m]!;
      const started = performance.now();
      const loss = optimizers[m]!.minimize(() => {
        const { logits, aux } = model.forward(ids, true);
        return tf.add(tf.losses.softmaxCrossEntropy(labels, logits), aux) as tf.Scalar;
      }, true, model.variables())!;
      losses[m]!.push(loss.dataSync()[0]!);
      stepMs[m]!.push(performance.now() - started);
      loss.dispose();
    }
    tf.dispose([ids, labels]);
  }
  const testIds = tf.tensor2d(test.ids, [o.testSamples, o.seqLen], 'int32');
  const results = models.map((model, m): EncoderResult => {
    const logits = tf.tidy(() => model.forward(testIds, false).logits);
    const predicted = tf.tidy(() => tf.argMax(logits, -1));
    const p = predicted.dataSync();
    const testAccuracy = test.labels.reduce((sum, label, i) => sum + (p[i] === label ? 1 : 0), 0) / o.testSamples;
    const moeBlocks = model.blocks.filter((b) => b.moe !== undefined);
    const metrics = moeBlocks.map((b) => b.moe!.lastMetrics!);
    const load = new Array<number>(o.numExperts).fill(0);
    for (const mt of metrics) mt.load.forEach((l, e) => (load[e]! += l));
    const tokensWithoutExpert = metrics.reduce((sum, mt) => sum + mt.tokensWithoutExpert, 0) / Math.max(1, metrics.length);
    tf.dispose([logits, predicted]);
    const tail = losses[m]!.slice(-Math.max(1, Math.floor(o.steps / 10)));
    return {
      variant: layouts[m]![0],
      layout: model.layout,
      parameters: model.variables().reduce((sum, v) => sum + v.size, 0),
      medianStepMs: median(stepMs[m]!),
      testAccuracy,
      finalTrainLoss: tail.reduce((a, b) => a + b, 0) / tail.length,
      load,
      tokensWithoutExpert,
    };
  });
  testIds.dispose();
  for (const opt of optimizers) opt.dispose();
  for (const model of models) model.dispose();
  return results;
}

/** `a+m / a+d / l+m…`: one code per block (mixing: attention, linear, Fourier; FFN: MoE, dense). */
export function layoutCode(layout: SparseMixerLayerKind[]): string {
  return layout.map((k) => `${k.mixing === 'attention' ? 'att' : k.mixing === 'linear' ? 'lin' : 'fft'}+${k.feedForward}`).join(', ');
}
