/**
 * The expert-pruning experiment (Chowdhury et al. 2024, arXiv:2405.16646), as `@moekit/pruning`'s
 * reduced test sets it up, at a chosen size: pretrain an MoE on all ten MNIST digits, fine-tune it on the
 * digits 0–4 (a new 5-way head), prune experts by each criterion and measure the test accuracy.
 */
import * as tf from '@tensorflow/tfjs';
import { MixtureOfExperts } from '@moekit/core';
import { loadMnist } from '@moekit/datasets';
import { FeedForwardExperts } from '@moekit/experts-ffn';
import { expertScores, formatPruningReport, pruningReport, type PruningReportRow } from '@moekit/pruning';
import { TopKRouter } from '@moekit/router-topk';

/** Sizes of {@link pruningExperiment}. */
export interface PruningExperimentOptions {
  /** Pretraining images (all ten digits, from the start of the training split). */
  pretrainSize: number;
  /** Training images after those, of which the digits 0–4 fine-tune. */
  finetuneSize: number;
  /** Test images, of which the digits 0–4 are scored. */
  testSize: number;
  /** Epochs of pretraining and of fine-tuning. */
  epochs: number;
  /** Experts `E`. */
  experts: number;
  /** Model width `D` (and expert hidden width). */
  dim: number;
  /** Pruning ratios to report. */
  ratios: number[];
  /** Seed of every initialiser, the router noise and the random criterion. */
  seed: number;
}

const PIXELS = 784;
const TASK = [0, 1, 2, 3, 4];

function mnistTensors(split: 'train' | 'test', offset: number, count: number, keep: number[]) {
  const slice = loadMnist({ split, offset, count });
  const rows: number[] = [];
  for (let i = 0; i < slice.count; i++) if (keep.includes(slice.labels[i]!)) rows.push(i);
  const images = new Float32Array(rows.length * PIXELS);
  rows.forEach((r, i) => images.set(slice.images.subarray(r * PIXELS, (r + 1) * PIXELS), i * PIXELS));
  return { x: tf.tensor2d(images, [rows.length, PIXELS]), y: tf.tensor1d(Int32Array.from(rows, (r) => keep.indexOf(slice.labels[r]!)), 'int32'), n: rows.length };
}

function dense(inputs: number, units: number, seed: number) {
  const limit = Math.sqrt(6 / (inputs + units));
  return tf.tidy(() => ({ w: tf.variable(tf.randomUniform([inputs, units], -limit, limit, 'float32', seed)), b: tf.variable(tf.zeros([units])) }));
}

/** Runs the experiment; returns the report rows, the unpruned accuracy, per-expert scores and the test size. */
export async function pruningExperiment(o: PruningExperimentOptions): Promise<{ rows: PruningReportRow[]; fullAccuracy: number; scores: string; testCount: number; table: string }> {
  const D = o.dim;
  const projection = dense(PIXELS, D, o.seed);
  const moe = new MixtureOfExperts({
    router: new TopKRouter({ numExperts: o.experts, k: 2, inputDim: D, noise: 'gaussian', seed: o.seed }), // V-MoE's router, as the paper prunes
    experts: new FeedForwardExperts({ numExperts: o.experts, inputDim: D, hiddenDim: D, seed: o.seed }),
    capacity: { train: 0, eval: 0 }, // dropless: accuracy differences come from the experts, not from drops
  });
  const hidden = (x: tf.Tensor2D) => tf.relu(tf.add(tf.matMul(x, projection.w), projection.b)) as tf.Tensor2D; // [B, D]
  type Head = { w: tf.Variable; b: tf.Variable };
  const classify = (model: MixtureOfExperts, head: Head, x: tf.Tensor2D, training: boolean) => {
    const r = model.apply(hidden(x), { training }); // [B, D]
    return { logits: tf.add(tf.matMul(r.output as tf.Tensor2D, head.w), head.b) as tf.Tensor2D, aux: r.auxLosses };
  };
  const train = (data: { x: tf.Tensor2D; y: tf.Tensor1D; n: number }, head: Head, classes: number) => {
    const optimizer = tf.train.adam(3e-3);
    const variables = [projection.w, projection.b, ...moe.trainableVariables, head.w, head.b];
    for (let epoch = 0; epoch < o.epochs; epoch++) {
      for (let start = 0; start + 100 <= data.n; start += 100) {
        tf.tidy(() => {
          const xb = tf.slice(data.x, [start, 0], [100, -1]);
          const yb = tf.oneHot(tf.slice(data.y, [start], [100]), classes);
          optimizer.minimize(() => {
            const { logits, aux } = classify(moe, head, xb, true);
            return tf.add(tf.losses.softmaxCrossEntropy(yb, logits), aux.total) as tf.Scalar;
          }, false, variables);
        });
      }
    }
    optimizer.dispose();
  };
  const accuracy = (model: MixtureOfExperts, head: Head, data: { x: tf.Tensor2D; y: tf.Tensor1D; n: number }) => {
    const correct = tf.tidy(() => {
      const { logits, aux } = classify(model, head, data.x, false);
      tf.dispose(Object.values(aux));
      return tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), data.y), 'float32'));
    });
    const value = correct.dataSync()[0]! / data.n;
    correct.dispose();
    return value;
  };
  const pretrainData = mnistTensors('train', 0, o.pretrainSize, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  const pretrainHead = dense(D, 10, o.seed + 1);
  train(pretrainData, pretrainHead, 10);
  const pretrainedRouter = moe.router.selectExperts!([...Array(o.experts).keys()]); // snapshot w^(0)
  const finetuneData = mnistTensors('train', o.pretrainSize, o.finetuneSize, TASK);
  const testData = mnistTensors('test', 0, o.testSize, TASK);
  const head = dense(D, TASK.length, o.seed + 2);
  train(finetuneData, head, TASK.length);
  const fullAccuracy = accuracy(moe, head, testData);
  const calibration = tf.tidy(() => hidden(tf.slice(finetuneData.x, [0, 0], [Math.min(500, finetuneData.n), -1])));
  const rows = await pruningReport({
    model: moe, ratios: o.ratios, pretrainedRouter, calibration, seed: o.seed,
    otherParameters: PIXELS * D + D + D * TASK.length + TASK.length,
    evaluate: (pruned) => accuracy(pruned, head, testData),
  });
  const scores = (['routerChange', 'load'] as const).map((c) => `${c}: ${expertScores(moe, c, { pretrainedRouter, calibration }).map((v) => v.toFixed(3)).join(' ')}`).join('\n');
  const testCount = testData.n;
  tf.dispose([pretrainData.x, pretrainData.y, finetuneData.x, finetuneData.y, testData.x, testData.y, calibration, projection.w, projection.b, pretrainHead.w, pretrainHead.b, head.w, head.b]);
  pretrainedRouter.dispose();
  moe.dispose();
  return { rows, fullAccuracy, scores, testCount, table: formatPruningReport(rows) };
}
