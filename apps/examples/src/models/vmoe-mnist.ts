/**
 * A small V-MoE-style classifier on MNIST (Riquelme et al. 2021): a projection, an MoE of FFN experts
 * behind V-MoE's router (top-2, Gaussian noise, softmax gates) with a residual, and a linear head. It is
 * trained once, then evaluated at shrinking test-time capacity with and without Batch Priority Routing.
 */
import * as tf from '@tensorflow/tfjs';
import { MixtureOfExperts } from '@moekit/core';
import { loadMnist } from '@moekit/datasets';
import { FeedForwardExperts } from '@moekit/experts-ffn';
import { capacitySweep, type CapacitySweepPoint } from '@moekit/router-batch-priority';
import { TopKRouter } from '@moekit/router-topk';

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
  /** Seed. */
  seed: number;
  /** Add the MoE's input to its output (V-MoE's encoder block: a dropped token is carried). Default true. */
  residual?: boolean;
}

/** Trains the model and returns its test accuracy at each capacity ratio, vanilla and BPR. */
export function vmoeCapacitySweep(o: VMoESweepOptions): { points: CapacitySweepPoint[]; seconds: number } {
  const train = loadMnist({ split: 'train', count: o.trainSize });
  const test = loadMnist({ split: 'test', count: o.testSize });
  const glorot = (fanIn: number, fanOut: number, seed: number) => tf.tidy(() => tf.variable(tf.randomUniform([fanIn, fanOut], -Math.sqrt(6 / (fanIn + fanOut)), Math.sqrt(6 / (fanIn + fanOut)), 'float32', seed)));
  const proj = glorot(784, o.dim, o.seed);
  const projBias = tf.tidy(() => tf.variable(tf.zeros([o.dim])));
  const head = glorot(o.dim, 10, o.seed + 1);
  const headBias = tf.tidy(() => tf.variable(tf.zeros([10])));
  const router = new TopKRouter({ numExperts: o.experts, k: 2, inputDim: o.dim, noise: 'gaussian', seed: o.seed + 2 }); // V-MoE: softmax gates, noise std 1/E
  const experts = new FeedForwardExperts({ numExperts: o.experts, inputDim: o.dim, hiddenDim: 2 * o.dim, seed: o.seed + 3 });
  const trainMoe = new MixtureOfExperts({ router, experts, capacity: { train: 1.25 } });
  // h = ReLU(x W + b); y = head(h + MoE(h)) with the residual (it carries a dropped token, as V-MoE's encoder block), else head(MoE(h))
  const residual = o.residual ?? true;
  const forward = (x: tf.Tensor, moe: MixtureOfExperts, training: boolean) => {
    const h = tf.relu(tf.add(tf.matMul(x as tf.Tensor2D, proj), projBias)) as tf.Tensor2D; // [B, D]
    const out = moe.apply(h, { training });
    const logits = tf.add(tf.matMul((residual ? tf.add(h, out.output) : out.output) as tf.Tensor2D, head), headBias); // [B, 10]
    return { logits, aux: out.auxLosses.total };
  };
  const optimizer = tf.train.adam(3e-3);
  const x = tf.tensor2d(train.images, [train.count, 784]);
  const y = tf.tidy(() => tf.oneHot(tf.tensor1d(Array.from(train.labels), 'int32'), 10));
  const started = performance.now();
  for (let epoch = 0; epoch < o.epochs; epoch++) {
    for (let start = 0; start + 100 <= train.count; start += 100) {
      tf.tidy(() => {
        const xb = tf.slice(x, [start, 0], [100, -1]);
        const yb = tf.slice(y, [start, 0], [100, -1]);
        optimizer.minimize(() => {
          const r = forward(xb, trainMoe, true);
          return tf.add(tf.losses.softmaxCrossEntropy(yb, r.logits), r.aux) as tf.Scalar;
        }, false, [proj, projBias, head, headBias, ...trainMoe.trainableVariables]);
      });
    }
  }
  const seconds = (performance.now() - started) / 1000;
  const testX = tf.tensor2d(test.images, [test.count, 784]);
  const labels = tf.tensor1d(Array.from(test.labels), 'int32');
  const points = capacitySweep({
    model: { router, experts, predict: (xs, moe) => tf.tidy(() => forward(xs, moe, false).logits) },
    data: { x: testX, labels },
    ratios: o.ratios,
    batchSize: 250,
  });
  tf.dispose([x, y, testX, labels, proj, projBias, head, headBias]);
  optimizer.dispose();
  trainMoe.dispose();
  return { points, seconds };
}

/** The sweep as a markdown table. */
export function formatSweep(points: CapacitySweepPoint[]): string {
  return ['| capacity ratio c | vanilla accuracy | vanilla dropped | BPR accuracy | BPR dropped |', '|---:|---:|---:|---:|---:|',
    ...points.map((p) => `| ${p.ratio} | ${p.vanilla.accuracy.toFixed(4)} | ${(100 * p.vanilla.droppedFraction).toFixed(1)}% | ${p.bpr.accuracy.toFixed(4)} | ${(100 * p.bpr.droppedFraction).toFixed(1)}% |`)].join('\n');
}
