/** The demo's look at the test images after an epoch: accuracy, cross-entropy and routing, in one forward pass per batch. */
import * as tf from '@tensorflow/tfjs';
import type { MnistSlice } from '@moekit/datasets';
import type { MnistClassifier } from '../models/mnist-moe-cnn.js';
import { mnistBatch, type MnistEvaluation } from '../models/train-mnist-classifier.js';

/** {@link evaluateMnistClassifier}'s measurements plus the mean cross-entropy, the test curve beside the training loss. */
export interface TestSetEvaluation extends MnistEvaluation {
  /** Mean softmax cross-entropy over the test images (no aux loss), as the training loss is measured. */
  loss: number;
}

/** Runs `model` at evaluation (no noise, the evaluation capacity) over `data` in batches of `batchSize`. */
export function evaluateTestSet(model: MnistClassifier, data: MnistSlice, batchSize = 250): TestSetEvaluation {
  let correct = 0;
  let lossSum = 0;
  let dropped = 0;
  let load: number[] | undefined;
  for (let start = 0; start < data.count; start += batchSize) {
    const count = Math.min(batchSize, data.count - start);
    const { x, y } = mnistBatch(data, start, count);
    const sums = tf.tidy(() => {
      const { logits, metrics } = model.forward(x, false); // logits [B, 10]
      if (metrics) {
        dropped += metrics.droppedCount;
        load = metrics.load.map((l, e) => l + (load?.[e] ?? 0));
      }
      const right = tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), tf.argMax(y, 1)), 'float32')); // []
      const loss = tf.losses.softmaxCrossEntropy(y, logits, undefined, undefined, tf.Reduction.SUM); // []
      return tf.stack([right, loss]); // [2]
    });
    const [right, loss] = sums.dataSync();
    correct += right!;
    lossSum += loss!;
    tf.dispose([x, y, sums]);
  }
  return { accuracy: correct / data.count, loss: lossSum / data.count, dropped, ...(load ? { load } : {}) };
}
