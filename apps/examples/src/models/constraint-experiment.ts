/**
 * The CNN-interpretability experiment (Pavlitska et al. 2022, arXiv:2204.10598): the MNIST MoE-CNN
 * trained with no constraint, the soft constraint and the hard constraint; per variant its test accuracy,
 * the load's balance, and the expert–class mutual information against a random assignment's.
 */
import * as tf from '@tensorflow/tfjs';
import { loadMnist } from '@moekit/datasets';
import { expertClassMatrix, expertClassStatistics, SoftConstraintRouter } from '@moekit/experts-conv';
import { demoRouter } from '../demo/run-demo.js';
import type { DemoConstraint } from '../demo/demo-options.js';
import { MnistMoECnn } from './mnist-moe-cnn.js';
import { evaluateMnistClassifier, trainMnistClassifier } from './train-mnist-classifier.js';

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
  /** Seed of the initialisers and the router noise. */
  seed: number;
  /** The variants to train, one model each. */
  constraints: DemoConstraint[];
}

/** One variant's measurements. */
export interface ConstraintResult {
  /** The variant. */
  constraint: DemoConstraint;
  /** Test accuracy. */
  accuracy: number;
  /** Fraction of test images per expert (first choice). */
  load: number[];
  /** Coefficient of variation of the load (0 = perfectly balanced; Shazeer 2017 Eq. 6's CV). */
  loadCv: number;
  /** I(E; C) in bits on the test images. */
  mutualInformation: number;
  /** Mean I(E; C) of 20 random assignments with the same load (experts drawn independently of the class). */
  randomMutualInformation: number;
  /** The counts, for printing. */
  counts: number[][];
  /** Training seconds. */
  seconds: number;
}

/** A seeded uniform generator (mulberry32). */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
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

/** Trains one MoE-CNN per constraint and measures it. */
export function constraintExperiment(o: ConstraintExperimentOptions): ConstraintResult[] {
  const train = loadMnist({ split: 'train', count: o.trainSize });
  const test = loadMnist({ split: 'test', count: o.testSize });
  const images = tf.tensor4d(test.images, [test.count, 28, 28, 1]);
  const results = o.constraints.map((constraint) => {
    const router = demoRouter({ router: 'topk', experts: o.experts, k: 1, constraint, seed: o.seed });
    const model = new MnistMoECnn({ router, capacityFactor: 0, evalCapacityFactor: 0, seed: o.seed }); // dropless: accuracy differences come from routing, not from drops
    const seconds = trainMnistClassifier(model, train, { epochs: o.epochs, onEpochStart: (e) => { if (router instanceof SoftConstraintRouter) router.setEpoch(e); } });
    const { accuracy } = evaluateMnistClassifier(model, test);
    const matrix = expertClassMatrix((x) => model.assign(x), { images, labels: test.labels }, { numExperts: o.experts, numClasses: 10, batchSize: 250 });
    const mean = 1 / o.experts;
    const loadCv = Math.sqrt(matrix.load.reduce((a, l) => a + (l - mean) ** 2, 0) / o.experts) / mean;
    model.dispose();
    return { constraint, accuracy, load: matrix.load, loadCv, mutualInformation: matrix.mutualInformation, randomMutualInformation: randomAssignmentInformation(test.labels, matrix.load, 20, o.seed), counts: matrix.counts, seconds };
  });
  images.dispose();
  return results;
}

/** The results as a markdown table. */
export function formatConstraintResults(results: ConstraintResult[]): string {
  return ['| constraint | test accuracy | load per expert (test) | load CV | I(E; C) bits | random assignment I(E; C) bits | train time |', '|---|---:|---|---:|---:|---:|---:|',
    ...results.map((r) => `| ${r.constraint} | ${r.accuracy.toFixed(4)} | ${r.load.map((l) => l.toFixed(2)).join(' ')} | ${r.loadCv.toFixed(2)} | ${r.mutualInformation.toFixed(3)} | ${r.randomMutualInformation.toFixed(4)} | ${r.seconds.toFixed(1)} s |`)].join('\n');
}
