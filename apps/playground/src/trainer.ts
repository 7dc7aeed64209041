// The training loop behind the page's buttons: mini-batches of the subset, an Adam step each, the test
// accuracy and the expert × class matrix every few steps, a progress callback after every step.
import * as tf from '@tensorflow/tfjs';
import { MNIST_PIXELS, type MnistSubset, type MnistSubsetSplit } from './mnist-subset.js';
import { NUM_CLASSES, type Classifier } from './playground-model.js';

/** The subset as tensors: pixels scaled to [0, 1], labels int32 and one-hot. */
export interface MnistTensors {
  trainX: tf.Tensor2D; // [N, 784]
  trainY: tf.Tensor2D; // [N, 10] one-hot
  testX: tf.Tensor2D; // [M, 784]
  testLabels: tf.Tensor1D; // [M] int32
  testLabelsHost: Uint8Array;
  trainCount: number;
}

function pixelsOf(split: MnistSubsetSplit): tf.Tensor2D {
  return tf.tidy(() => tf.div(tf.tensor2d(split.pixels, [split.count, MNIST_PIXELS], 'float32'), 255) as tf.Tensor2D);
}

/** Uploads the subset once; the caller disposes of it with {@link disposeMnistTensors}. */
export function mnistTensors(subset: MnistSubset): MnistTensors {
  return {
    trainX: pixelsOf(subset.train),
    trainY: tf.tidy(() => tf.oneHot(tf.tensor1d(subset.train.labels, 'int32'), NUM_CLASSES) as tf.Tensor2D),
    testX: pixelsOf(subset.test),
    testLabels: tf.tensor1d(subset.test.labels, 'int32'),
    testLabelsHost: subset.test.labels,
    trainCount: subset.train.count,
  };
}

/** Releases the tensors of {@link mnistTensors}. */
export function disposeMnistTensors(data: MnistTensors): void {
  tf.dispose([data.trainX, data.trainY, data.testX, data.testLabels]);
}

/** What the page shows after each step. */
export interface TrainProgress {
  step: number;
  /** Task loss (cross-entropy) of each step so far. */
  losses: number[];
  /** `[step, test accuracy]` at each evaluation so far. */
  accuracies: Array<[number, number]>;
  /** Load per expert of the latest step (absent for the dense model). */
  load?: number[];
  /** `[E][10]` of the latest evaluation (empty for the dense model). */
  expertClass: number[][];
}

/** Options of {@link train}. */
export interface TrainOptions {
  steps: number;
  batchSize: number;
  learningRate: number;
  /** Evaluate every this many steps (and after the last). */
  evalEvery: number;
  /** Called after every step; may update the page. */
  onProgress: (progress: TrainProgress) => void;
  /** Polled before every step: true stops the run. */
  shouldStop?: () => boolean;
  /** Awaited between steps so the page can paint (the browser's `tf.nextFrame`). Default: none. */
  yieldToPage?: () => Promise<void>;
}

/** Trains `model` on `data`, reporting progress; returns the final progress. Disposes of what it creates. */
export async function train(model: Classifier, data: MnistTensors, options: TrainOptions): Promise<TrainProgress> {
  const optimizer = tf.train.adam(options.learningRate);
  const progress: TrainProgress = { step: 0, losses: [], accuracies: [], expertClass: [] };
  const evaluate = (): void => {
    progress.accuracies.push([progress.step, model.accuracy(data.testX, data.testLabels)]);
    progress.expertClass = model.expertClassMatrix(data.testX, data.testLabelsHost);
  };
  try {
    const batches = Math.floor(data.trainCount / options.batchSize);
    for (let step = 1; step <= options.steps && !options.shouldStop?.(); step++) {
      const start = ((step - 1) % batches) * options.batchSize;
      const x = tf.slice(data.trainX, [start, 0], [options.batchSize, -1]); // [B, 784]
      const y = tf.slice(data.trainY, [start, 0], [options.batchSize, -1]); // [B, 10]
      const { loss, load } = model.trainStep(x, y, optimizer);
      tf.dispose([x, y]);
      progress.step = step;
      progress.losses.push(loss);
      if (load) progress.load = load;
      if (step % options.evalEvery === 0 || step === options.steps) evaluate();
      options.onProgress(progress);
      if (options.yieldToPage) await options.yieldToPage();
    }
  } finally {
    optimizer.dispose();
  }
  return progress;
}
