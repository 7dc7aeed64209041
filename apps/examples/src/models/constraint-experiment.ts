/**
 * The CNN-interpretability experiment (Pavlitska et al. 2022, arXiv:2204.10598): the MNIST MoE-CNN with
 * Shazeer's noisy top-k gating, trained with no utilisation constraint, the soft constraint and the hard
 * constraint, over several seeds; per run its test accuracy, the routing health at evaluation (load per
 * expert, its CV, dead experts, dropped pairs) and the expert–class mutual information against a random
 * assignment's.
 */
import * as tf from '@tensorflow/tfjs';
import { type Router } from '@moekit/core';
import { loadMnist, type MnistSlice } from '@moekit/datasets';
import { expertClassMatrix, expertClassStatistics, HardConstraintRouter, SoftConstraintRouter } from '@moekit/experts-conv';
import { TopKRouter } from '@moekit/router-topk';
import { formatMeanSd, loadHealth, meanSd } from '../stats/seed-statistics.js';
import { MnistMoECnn } from './mnist-moe-cnn.js';
import { mnistBatch, trainMnistClassifier } from './train-mnist-classifier.js';
import { mulberry32 } from './mulberry32.js';

/** Filters of the MoE-CNN's conv gate: the router's input width. */
const GATE_FILTERS = 16;

/** The utilisation constraint of one variant (Pavlitska et al. 2022 §3.3). */
export type ConstraintVariant = 'none' | 'soft' | 'hard';

/** Sizes of {@link constraintExperiment}. */
export interface ConstraintExperimentOptions {
  /** Training images (the first of MNIST's training split). */
  trainSize: number;
  /** Test images (the first of the test split). */
  testSize: number;
  /** Passes over the training images. */
  epochs: number;
  /** Experts `E`. */
  experts: number;
  /** Experts per image `k`. Default 2. */
  k?: number;
  /** One model per seed and variant; the seed draws the initialisers and the router noise. */
  seeds: number[];
  /** The variants to train. */
  constraints: ConstraintVariant[];
  /** Weight of the soft constraint's KL(U ‖ s). Default 0.1. */
  softWeight?: number;
  /** Threshold of the hard constraint. Default 0.1. */
  hardThreshold?: number;
  /** Tracking mode of the hard constraint. Default `'relative'`. */
  hardMode?: 'relative' | 'absolute';
  /** Whether the hard constraint masks at evaluation too. Default true. */
  hardInEvaluation?: boolean;
}

/** A row of results: a variant, or the hard-constraint models evaluated a second time without the mask. */
export type ConstraintRow = ConstraintVariant | 'hard, unmasked at evaluation';

/** One model's measurements (one evaluation of it). */
export interface ConstraintResult {
  /** The variant (and, for the hard constraint's second evaluation, how it was evaluated). */
  constraint: ConstraintRow;
  /** Its seed. */
  seed: number;
  /** Test accuracy. */
  accuracy: number;
  /** Kept (image, expert) pairs per expert at evaluation, all `k` choices. */
  load: number[];
  /** `load` as shares. */
  shares: number[];
  /** Coefficient of variation of `load` (population sd / mean; 0 = balanced). */
  loadCv: number;
  /** Experts that took no test image. */
  dead: number;
  /** Dropped pairs / pairs asked for, at evaluation. */
  droppedFraction: number;
  /** I(E; C) in bits of the first-choice expert on the test images. */
  mutualInformation: number;
  /** Mean I(E; C) of 20 random assignments with the same first-choice load (experts drawn independently of the class). */
  randomMutualInformation: number;
  /** First-choice expert × class counts. */
  counts: number[][];
  /** Training seconds. */
  seconds: number;
}

/** Mean I(E; C) when each image's expert is drawn from `load` independently of its class (the random-assignment baseline). */
export function randomAssignmentInformation(labels: ArrayLike<number>, load: number[], trials: number, seed: number): number {
  const random = mulberry32(seed);
  let sum = 0;
  for (let t = 0; t < trials; t++) {
    const counts = load.map(() => new Array<number>(10).fill(0));
    for (let i = 0; i < labels.length; i++) {
      let u = random();
      let e = 0;
      while (e < load.length - 1 && u >= load[e]!) u -= load[e++]!;
      counts[e]![labels[i]!]! += 1;
    }
    sum += expertClassStatistics(counts).mutualInformation;
  }
  return sum / trials;
}

/**
 * The variant's router: Shazeer's noisy top-k (`Softmax(KeepTopK(H, k))` gates, Eqs. 3–5) with no
 * balancing loss of its own (importance, load and clean-choice balancing weights 0), so that the
 * constraint alone balances and `none` is the paper's unconstrained MoE; soft: KL(U ‖ s) of the sparse clean
 * gates; hard: relative tracking, the over-used experts masked in training and at evaluation.
 */
export function constraintRouter(constraint: ConstraintVariant, o: { experts: number; k: number; seed: number; softWeight: number; hardThreshold: number; hardMode: 'relative' | 'absolute'; hardInEvaluation: boolean }): Router {
  // built now (inputDim = the conv gate's 16 filters): Adam keys its moments by the variables' order, so the list must not grow after the first step
  const inner = new TopKRouter({ numExperts: o.experts, k: o.k, noise: 'shazeer', gates: 'topKSoftmax', kernelInitializer: 'glorotUniform', importanceWeight: 0, loadWeight: 0, cleanLoadWeight: 0, inputDim: GATE_FILTERS, seed: o.seed });
  if (constraint === 'soft') return new SoftConstraintRouter({ router: inner, loss: 'klUniform', weight: o.softWeight });
  if (constraint === 'hard') return new HardConstraintRouter({ router: inner, mode: o.hardMode, threshold: o.hardThreshold, applyInEvaluation: o.hardInEvaluation });
  return inner;
}

/** Accuracy and the routing metrics of every evaluation batch, summed. */
function evaluate(model: MnistMoECnn, data: MnistSlice, batchSize = 250): { accuracy: number; load: number[]; needed: number; dropped: number } {
  let correct = 0;
  let needed = 0;
  let dropped = 0;
  const load = new Array<number>(model.router.numExperts).fill(0);
  for (let start = 0; start < data.count; start += batchSize) {
    const count = Math.min(batchSize, data.count - start);
    const { x, y } = mnistBatch(data, start, count);
    const hits = tf.tidy(() => {
      const { logits, metrics } = model.forward(x, false);
      metrics.load.forEach((l, e) => { load[e]! += l; }); // read now: the next call releases them
      needed += metrics.needed.reduce((a, b) => a + b, 0);
      dropped += metrics.droppedCount;
      return tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), tf.argMax(y, 1)), 'float32'));
    });
    correct += hits.dataSync()[0]!;
    tf.dispose([x, y, hits]);
  }
  return { accuracy: correct / data.count, load, needed, dropped };
}

/** Evaluates a trained model: accuracy, the routing health at evaluation and the first-choice expert × class statistics. */
function measure(model: MnistMoECnn, constraint: ConstraintRow, seed: number, seconds: number, test: MnistSlice, images: tf.Tensor4D): ConstraintResult {
  const E = model.router.numExperts;
  const evaluation = evaluate(model, test);
  const health = loadHealth(evaluation.load);
  const matrix = expertClassMatrix((x) => model.assign(x), { images, labels: test.labels }, { numExperts: E, numClasses: 10, batchSize: 250 });
  return {
    constraint, seed, accuracy: evaluation.accuracy, load: evaluation.load, shares: health.shares, loadCv: health.cv, dead: health.dead,
    droppedFraction: evaluation.needed === 0 ? 0 : evaluation.dropped / evaluation.needed,
    mutualInformation: matrix.mutualInformation, randomMutualInformation: randomAssignmentInformation(test.labels, matrix.load, 20, seed),
    counts: matrix.counts, seconds,
  };
}

/** Trains one MoE-CNN per seed and constraint and measures each; a hard-constraint model is evaluated with and without its mask. */
export function constraintExperiment(o: ConstraintExperimentOptions): ConstraintResult[] {
  const k = o.k ?? 2;
  const train = loadMnist({ split: 'train', count: o.trainSize });
  const test = loadMnist({ split: 'test', count: o.testSize });
  const images = tf.tensor4d(test.images, [test.count, 28, 28, 1]);
  const results: ConstraintResult[] = [];
  for (const seed of o.seeds) {
    for (const constraint of o.constraints) {
      const router = constraintRouter(constraint, { experts: o.experts, k, seed, softWeight: o.softWeight ?? 0.1, hardThreshold: o.hardThreshold ?? 0.1, hardMode: o.hardMode ?? 'relative', hardInEvaluation: o.hardInEvaluation ?? true });
      const model = new MnistMoECnn({ router, capacityFactor: 0, evalCapacityFactor: 0, gateFilters: GATE_FILTERS, seed }); // dropless: accuracy differences come from routing, not from drops
      const seconds = trainMnistClassifier(model, train, { epochs: o.epochs });
      results.push(measure(model, constraint, seed, seconds, test, images));
      if (router instanceof HardConstraintRouter && router.applyInEvaluation) { // the same model once more, its final tracked state not applied
        router.applyInEvaluation = false;
        results.push(measure(model, 'hard, unmasked at evaluation', seed, seconds, test, images));
      }
      model.dispose();
    }
  }
  images.dispose();
  return results;
}

/** The runs of `constraint`, in seed order. */
export function runsOf(results: ConstraintResult[], constraint: ConstraintRow): ConstraintResult[] {
  return results.filter((r) => r.constraint === constraint);
}

/** Mean over seeds of the shares sorted largest first (expert indices are arbitrary per seed). */
function meanSortedShares(runs: ConstraintResult[]): string {
  const sorted = runs.map((r) => [...r.shares].sort((a, b) => b - a));
  return sorted[0]!.map((_, i) => meanSd(sorted.map((s) => s[i]!)).mean.toFixed(2)).join(' ');
}

/** One row per variant, mean ± sample sd over the seeds. */
export function formatConstraintResults(results: ConstraintResult[]): string {
  const variants = [...new Set(results.map((r) => r.constraint))];
  return [
    '| constraint | test accuracy | eval load shares, sorted | eval load CV | dead experts | eval dropped | I(E; C) bits | random I(E; C) bits | train time |',
    '|---|---:|---|---:|---:|---:|---:|---:|---:|',
    ...variants.map((v) => {
      const runs = runsOf(results, v);
      const f = (pick: (r: ConstraintResult) => number, digits: number) => formatMeanSd(runs.map(pick), digits);
      return `| ${v} | ${f((r) => r.accuracy, 4)} | ${meanSortedShares(runs)} | ${f((r) => r.loadCv, 2)} | ${f((r) => r.dead, 1)} | ${f((r) => 100 * r.droppedFraction, 1)} % | ${f((r) => r.mutualInformation, 3)} | ${f((r) => r.randomMutualInformation, 4)} | ${f((r) => r.seconds, 0)} s |`;
    }),
  ].join('\n');
}

/** One row per model: the seeds one by one. */
export function formatConstraintRuns(results: ConstraintResult[]): string {
  return [
    `| constraint | seed | test accuracy | eval load shares (experts 0–${results[0]!.shares.length - 1}) | load CV | I(E; C) bits |`,
    '|---|---:|---:|---|---:|---:|',
    ...results.map((r) => `| ${r.constraint} | ${r.seed} | ${r.accuracy.toFixed(4)} | ${r.shares.map((s) => s.toFixed(2)).join(' ')} | ${r.loadCv.toFixed(2)} | ${r.mutualInformation.toFixed(3)} |`),
  ].join('\n');
}
