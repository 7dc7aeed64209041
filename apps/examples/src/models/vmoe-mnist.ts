/**
 * V-MoE's test-time capacity experiment (Riquelme et al. 2021, arXiv:2106.05974, §4.1) on MNIST: a
 * one-block V-MoE over 16 patch tokens per image ({@link PatchVMoE}) is trained once at capacity
 * factor 1.25 with vanilla routing, then evaluated dropless and at shrinking test-time capacity with
 * tokens placed in batch order (vanilla) and by Batch Priority Routing.
 */
import * as tf from '@tensorflow/tfjs';
import { MixtureOfExperts } from '@moekit/core';
import { loadMnist } from '@moekit/datasets';
import { capacitySweep, type CapacitySweepPoint } from '@moekit/router-batch-priority';
import { PatchVMoE } from './patch-vmoe.js';

/** Sizes of {@link vmoeCapacitySweep}. */
export interface VMoESweepOptions {
  /** Training images. */
  trainSize: number;
  /** Test images. */
  testSize: number;
  /** Epochs. */
  epochs: number;
  /** Model width D. */
  dim: number;
  /** Experts E. */
  experts: number;
  /** Test-time capacity ratios c. */
  ratios: number[];
  /** Seed of the weights and the router's noise. */
  seed: number;
  /** Images per training step. Default 100. */
  batchSize?: number;
  /** Adam's learning rate. Default 3e-3. */
  learningRate?: number;
}

/** The dropless evaluation: accuracy and the routing's health when every choice is kept. */
export interface DroplessEvaluation {
  /** Test accuracy. */
  accuracy: number;
  /** `[E]` kept (token, expert) pairs per expert over the test set. */
  load: number[];
  /** Dropped pairs / pairs asked for (0 when dropless works). */
  droppedFraction: number;
}

/** What one trained model measured. */
export interface VMoESweepResult {
  /** Accuracy and dropped fraction per capacity ratio, vanilla and BPR. */
  points: CapacitySweepPoint[];
  /** The same model evaluated without a capacity limit. */
  dropless: DroplessEvaluation;
  /** Training seconds. */
  seconds: number;
}

/** Images per evaluation batch: T = 250 · 16 = 4000 tokens per routing call. */
const EVAL_BATCH = 250;

/** Trains one model and measures it dropless and across the capacity ratios. */
export function vmoeCapacitySweep(o: VMoESweepOptions): VMoESweepResult {
  const train = loadMnist({ split: 'train', count: o.trainSize });
  const test = loadMnist({ split: 'test', count: o.testSize });
  const model = new PatchVMoE({ dim: o.dim, experts: o.experts, hiddenDim: 2 * o.dim, seed: o.seed });
  const trainMoe = new MixtureOfExperts({ router: model.router, experts: model.experts, capacity: { train: 1.25 } });
  const optimizer = tf.train.adam(o.learningRate ?? 3e-3);
  const batch = o.batchSize ?? 100; // images per step, 16 tokens each
  const x = tf.tensor2d(train.images, [train.count, 784]);
  const y = tf.tidy(() => tf.oneHot(tf.tensor1d(Array.from(train.labels), 'int32'), 10));
  const started = performance.now();
  for (let epoch = 0; epoch < o.epochs; epoch++) {
    for (let start = 0; start + batch <= train.count; start += batch) {
      tf.tidy(() => {
        const xb = tf.slice(x, [start, 0], [batch, -1]) as tf.Tensor2D; // [N, 784]
        const yb = tf.slice(y, [start, 0], [batch, -1]); // [N, 10]
        optimizer.minimize(() => {
          const r = model.predict(xb, trainMoe, true);
          return tf.add(tf.losses.softmaxCrossEntropy(yb, r.logits), r.aux) as tf.Scalar; // cross-entropy + V-MoE's importance and load losses
        }, false, model.trainableVariables);
      });
    }
  }
  const seconds = (performance.now() - started) / 1000;
  const testX = tf.tensor2d(test.images, [test.count, 784]);
  const labels = tf.tensor1d(Array.from(test.labels), 'int32');
  const dropless = evaluateDropless(model, testX, labels);
  const points = capacitySweep({
    model: { router: model.router, experts: model.experts, predict: (xs, moe) => tf.tidy(() => model.predict(xs as tf.Tensor2D, moe, false).logits) },
    data: { x: testX, labels },
    ratios: o.ratios,
    batchSize: EVAL_BATCH,
  });
  tf.dispose([x, y, testX, labels]);
  optimizer.dispose();
  trainMoe.lastMetrics?.dispose(); // the last training step's unread metrics
  model.dispose(); // the router and experts every MoE here shares
  return { points, dropless, seconds };
}

/** Test accuracy and per-expert load with `capacity: { eval: 0 }` (every choice kept). */
function evaluateDropless(model: PatchVMoE, x: tf.Tensor2D, labels: tf.Tensor1D): DroplessEvaluation {
  const moe = new MixtureOfExperts({ router: model.router, experts: model.experts, capacity: { eval: 0 } });
  const n = x.shape[0];
  const load = new Array<number>(model.router.numExperts).fill(0);
  let correct = 0;
  let dropped = 0;
  let needed = 0;
  for (let start = 0; start < n; start += EVAL_BATCH) {
    const size = Math.min(EVAL_BATCH, n - start);
    correct += tf.tidy(() => {
      const logits = model.predict(tf.slice(x, start, size), moe, false).logits; // [N, 10]
      return tf.sum(tf.cast(tf.equal(tf.argMax(logits, -1), tf.slice(labels, start, size)), 'float32')).dataSync()[0]!;
    });
    const m = moe.lastMetrics!;
    m.load.forEach((l, e) => { load[e]! += l; });
    dropped += m.droppedCount;
    needed += m.needed.reduce((a, b) => a + b, 0);
  }
  return { accuracy: correct / n, load, droppedFraction: needed === 0 ? 0 : dropped / needed };
}

/** One model's sweep as a markdown table. */
export function formatSweep(points: CapacitySweepPoint[]): string {
  return ['| capacity ratio c | vanilla accuracy | vanilla dropped | BPR accuracy | BPR dropped |', '|---:|---:|---:|---:|---:|',
    ...points.map((p) => `| ${p.ratio} | ${p.vanilla.accuracy.toFixed(4)} | ${(100 * p.vanilla.droppedFraction).toFixed(1)}% | ${p.bpr.accuracy.toFixed(4)} | ${(100 * p.bpr.droppedFraction).toFixed(1)}% |`)].join('\n');
}
