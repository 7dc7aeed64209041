/**
 * The training loop of the MNIST classifiers: Adam on softmax cross-entropy plus the model's aux loss,
 * one step per batch, with a callback after each step and evaluation helpers.
 */
import * as tf from '@tensorflow/tfjs';
import type { MnistSlice as MnistData } from '@moekit/datasets';
import type { MnistClassifier } from './mnist-moe-cnn.js';

/** One training step's record. */
export interface TrainStep {
  /** 0-based epoch. */
  epoch: number;
  /** 0-based batch within the epoch. */
  batch: number;
  /** Batches per epoch. */
  batchesPerEpoch: number;
  /** Cross-entropy of the batch (without the aux loss). */
  loss: number;
  /** Fraction of the batch classified correctly (training mode). */
  accuracy: number;
  /** Images each expert took in this batch (MoE only). */
  load?: number[];
  /** Images dropped by capacity in this batch (MoE only). */
  dropped?: number;
}

/** Options of {@link trainMnistClassifier}. */
export interface TrainMnistOptions {
  /** Passes over the training images. */
  epochs: number;
  /** Images per step. Default 50. */
  batchSize?: number;
  /** Adam's learning rate. Default 0.01. */
  learningRate?: number;
  /** Called after each step. */
  onStep?: (step: TrainStep) => void;
  /** Called before each epoch (e.g. to lift a soft constraint). */
  onEpochStart?: (epoch: number) => void;
}

/** A batch of MNIST as tensors: images `[n, 28, 28, 1]`, one-hot labels `[n, 10]`. */
export function mnistBatch(data: MnistData, start: number, count: number): { x: tf.Tensor4D; y: tf.Tensor2D } {
  const x = tf.tensor4d(data.images.subarray(start * 784, (start + count) * 784), [count, 28, 28, 1]);
  const y = tf.tidy(() => tf.oneHot(tf.tensor1d(Array.from(data.labels.subarray(start, start + count)), 'int32'), 10) as tf.Tensor2D);
  return { x, y };
}

/** Trains `model` on `data`; returns the training seconds. */
export function trainMnistClassifier(model: MnistClassifier, data: MnistData, options: TrainMnistOptions): number {
  const batchSize = options.batchSize ?? 50;
  const optimizer = tf.train.adam(options.learningRate ?? 0.01);
  const batchesPerEpoch = Math.floor(data.count / batchSize);
  const started = performance.now();
  for (let epoch = 0; epoch < options.epochs; epoch++) {
    options.onEpochStart?.(epoch);
    for (let batch = 0; batch < batchesPerEpoch; batch++) {
      const { x, y } = mnistBatch(data, batch * batchSize, batchSize);
      let record: { loss: tf.Scalar; correct: tf.Scalar; load?: number[]; dropped?: number } | undefined;
      const cost = optimizer.minimize(() => {
        const { logits, aux, metrics } = model.forward(x, true);
        const loss = tf.losses.softmaxCrossEntropy(y, logits) as tf.Scalar;
        record = {
          loss: tf.keep(tf.clone(loss)),
          correct: tf.keep(tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), tf.argMax(y, 1)), 'float32'))),
          ...(metrics ? { load: metrics.load, dropped: metrics.droppedCount } : {}),
        };
        return tf.add(loss, aux) as tf.Scalar;
      }, true, model.variables);
      const loss = record!.loss.dataSync()[0]!;
      const accuracy = record!.correct.dataSync()[0]! / batchSize;
      tf.dispose([x, y, cost!, record!.loss, record!.correct]);
      options.onStep?.({ epoch, batch, batchesPerEpoch, loss, accuracy, ...(record!.load ? { load: record!.load, dropped: record!.dropped! } : {}) });
    }
  }
  optimizer.dispose();
  return (performance.now() - started) / 1000;
}

/** What {@link evaluateMnistClassifier} measured. */
export interface MnistEvaluation {
  /** Fraction of the images classified correctly. */
  accuracy: number;
  /** (Image, expert) pairs dropped by capacity (MoE only; 0 for a dense model). */
  dropped: number;
  /** Kept (image, expert) pairs per expert over the whole set (MoE only). */
  load?: number[];
}

/** Accuracy and, for an MoE, its evaluation routing (load per expert, pairs dropped by capacity), evaluated in batches. */
export function evaluateMnistClassifier(model: MnistClassifier, data: MnistData, batchSize = 250): MnistEvaluation {
  let correct = 0;
  let dropped = 0;
  let load: number[] | undefined;
  for (let start = 0; start < data.count; start += batchSize) {
    const count = Math.min(batchSize, data.count - start);
    const { x, y } = mnistBatch(data, start, count);
    const result = tf.tidy(() => {
      const { logits, metrics } = model.forward(x, false);
      if (metrics) {
        dropped += metrics.droppedCount;
        load = metrics.load.map((l, e) => l + (load?.[e] ?? 0));
      }
      return tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), tf.argMax(y, 1)), 'float32'));
    });
    correct += result.dataSync()[0]!;
    tf.dispose([x, y, result]);
  }
  return { accuracy: correct / data.count, dropped, ...(load ? { load } : {}) };
}
