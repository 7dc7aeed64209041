// The reduced-size check: pretrain an MoE on MNIST digits, fine-tune it on a derived task (digits
// 0–4 only, a new 5-way head), prune half the experts with each criterion and report the accuracy of
// each beside Chowdhury et al. 2024's router-change criterion. apps/examples runs it at full size.
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { MixtureOfExperts, requireCapability, type Router } from '@moekit/core';
import { registerMoekitKernels } from '@moekit/platform';
import { loadMnist } from '@moekit/datasets';
import { FeedForwardExperts } from '@moekit/experts-ffn';
import { TopKRouter } from '@moekit/router-topk';
import { formatPruningReport } from './format-pruning-report.js';
import { expertScores } from './pruning-criterion.js';
import { pruningReport } from './pruning-report.js';

const PIXELS = 784;
const D = 32; // model width
const E = 8;
const SEED = 1;

/** Images and labels of one MNIST slice, keeping only the digits `keep` (labels re-numbered by position in `keep`). */
function mnistTensors(split: 'train' | 'test', offset: number, count: number, keep: number[]): { x: tf.Tensor2D; y: tf.Tensor1D; n: number } {
  const slice = loadMnist({ split, offset, count });
  const rows: number[] = [];
  for (let i = 0; i < slice.count; i++) if (keep.includes(slice.labels[i]!)) rows.push(i);
  const images = new Float32Array(rows.length * PIXELS);
  rows.forEach((r, i) => images.set(slice.images.subarray(r * PIXELS, (r + 1) * PIXELS), i * PIXELS));
  const labels = Int32Array.from(rows, (r) => keep.indexOf(slice.labels[r]!));
  return { x: tf.tensor2d(images, [rows.length, PIXELS]), y: tf.tensor1d(labels, 'int32'), n: rows.length };
}

/** A dense layer's weights as plain variables (glorot-uniform kernel, zero bias). */
function dense(inputs: number, units: number, seed: number): { w: tf.Variable; b: tf.Variable } {
  const limit = Math.sqrt(6 / (inputs + units));
  return { w: tf.variable(tf.randomUniform([inputs, units], -limit, limit, 'float32', seed)), b: tf.variable(tf.zeros([units])) };
}

describe('pruning an MoE fine-tuned on MNIST (reduced size)', () => {
  it('prunes half the experts with each criterion; the router-change criterion is reported beside the baselines', async () => {
    registerMoekitKernels(); // cpu: the O(N) UnsortedSegmentSum that gather's gradient needs
    const projection = dense(PIXELS, D, SEED); // x [B, 784] → h [B, D]
    const moe = new MixtureOfExperts({
      router: new TopKRouter({ numExperts: E, k: 2, inputDim: D, noise: 'gaussian', seed: SEED }), // V-MoE's router, as the paper prunes
      experts: new FeedForwardExperts({ numExperts: E, inputDim: D, hiddenDim: D, seed: SEED }),
      capacity: { train: 0, eval: 0 }, // dropless: accuracy differences come from the experts, not from drops
    });
    const hidden = (x: tf.Tensor2D) => tf.relu(tf.add(tf.matMul(x, projection.w), projection.b)) as tf.Tensor2D; // [B, D]
    const classify = (model: MixtureOfExperts, head: { w: tf.Variable; b: tf.Variable }, x: tf.Tensor2D, training: boolean) => {
      const r = model.apply(hidden(x), { training }); // [B, D]
      return { logits: tf.add(tf.matMul(r.output as tf.Tensor2D, head.w), head.b) as tf.Tensor2D, aux: r.auxLosses }; // [B, classes]
    };
    const train = (data: { x: tf.Tensor2D; y: tf.Tensor1D; n: number }, head: { w: tf.Variable; b: tf.Variable }, classes: number, epochs: number) => {
      const optimizer = tf.train.adam(3e-3);
      const variables = [projection.w, projection.b, ...moe.trainableVariables, head.w, head.b];
      const batch = 100;
      for (let epoch = 0; epoch < epochs; epoch++) {
        for (let start = 0; start + batch <= data.n; start += batch) {
          const [xb, yb] = tf.tidy(() => [tf.slice(data.x, [start, 0], [batch, -1]), tf.oneHot(tf.slice(data.y, [start], [batch]), classes)]);
          optimizer.minimize(() => {
            const { logits, aux } = classify(moe, head, xb as tf.Tensor2D, true);
            return tf.add(tf.losses.softmaxCrossEntropy(yb!, logits), aux.total) as tf.Scalar;
          }, false, variables);
          tf.dispose([xb!, yb!]);
        }
      }
      optimizer.dispose();
    };
    const accuracy = (model: MixtureOfExperts, head: { w: tf.Variable; b: tf.Variable }, data: { x: tf.Tensor2D; y: tf.Tensor1D; n: number }) => {
      const correct = tf.tidy(() => {
        const { logits, aux } = classify(model, head, data.x, false);
        tf.dispose(Object.values(aux));
        return tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), data.y), 'float32'));
      });
      const value = correct.dataSync()[0]! / data.n;
      correct.dispose();
      return value;
    };

    // pretrain: all ten digits
    const allDigits = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
    const pretrainData = mnistTensors('train', 0, 2000, allDigits);
    const pretrainHead = dense(D, 10, SEED + 1);
    train(pretrainData, pretrainHead, 10, 4);
    const pretrainedRouter = requireCapability(moe.router, 'selectExperts', 'test', 'router').selectExperts([...Array(E).keys()]) as Router; // snapshot w^(0)

    // fine-tune on the derived task: digits 0–4 only, a new 5-way head; everything trains
    const task = [0, 1, 2, 3, 4];
    const finetuneData = mnistTensors('train', 2000, 3000, task);
    const testData = mnistTensors('test', 0, 1000, task);
    const head = dense(D, task.length, SEED + 2);
    train(finetuneData, head, task.length, 4);
    const fullAccuracy = accuracy(moe, head, testData);

    const calibration = tf.tidy(() => hidden(tf.slice(finetuneData.x, [0, 0], [500, -1]))); // the MoE's input on fine-tuning data
    const otherParameters = PIXELS * D + D + D * task.length + task.length; // projection and head: 25 120 + 165
    const rows = await pruningReport({
      model: moe,
      ratios: [0, 0.5],
      pretrainedRouter,
      calibration,
      seed: SEED,
      otherParameters,
      evaluate: (pruned) => accuracy(pruned, head, testData),
    });
    const perExpert = (['routerChange', 'load'] as const).map((c) => `${c}: ${expertScores(moe, c, { pretrainedRouter, calibration }).map((v) => v.toFixed(3)).join(' ')}`);
    console.log(`MNIST digits 0–4 (${testData.n} test images), E = ${E}, unpruned accuracy ${fullAccuracy.toFixed(3)}\n${perExpert.join('\n')}\n${formatPruningReport(rows)}`);

    expect(fullAccuracy).toBeGreaterThan(0.9); // the fine-tuned MoE learned the derived task
    expect(rows.map((r) => r.criterion)).toEqual(['routerChange', 'routerChange', 'random', 'random', 'load', 'load', 'importance', 'importance', 'weightNorm', 'weightNorm']);
    for (const row of rows.filter((r) => r.ratio === 0)) expect(row.accuracy).toBe(fullAccuracy); // a copy of all experts is the same model
    // parameters at 50%: router W_g D·E' = 32·4 = 128; FFN experts E'·(D·H + H + H·D + D) = 4·(1024 + 32 + 1024 + 32) = 8448; plus 25 285 outside
    for (const row of rows.filter((r) => r.ratio === 0.5)) {
      expect(row.keptExperts).toBe(4);
      expect(row.parameters).toBe(128 + 8448 + 25_285);
      expect(row.accuracy).toBeGreaterThanOrEqual(0);
      expect(row.accuracy).toBeLessThanOrEqual(1);
    }
    expect(rows.find((r) => r.criterion === 'routerChange' && r.ratio === 0)!.parameters).toBe(256 + 16_896 + 25_285);

    tf.dispose([pretrainData.x, pretrainData.y, finetuneData.x, finetuneData.y, testData.x, testData.y, calibration, projection.w, projection.b, pretrainHead.w, pretrainHead.b, head.w, head.b]);
    pretrainedRouter.dispose();
    moe.dispose();
  });
});
