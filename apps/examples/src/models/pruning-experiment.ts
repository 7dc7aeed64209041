/**
 * The expert-pruning experiment (Chowdhury et al. 2024, arXiv:2405.16646), as `@moekit/pruning`'s
 * reduced test sets it up, at a chosen size and for one seed: pretrain an MoE on all ten MNIST digits
 * (Adam, as V-MoE's upstream training), fine-tune it on the digits 0–4 (a new 5-way head) with the
 * authors' optimiser (SGD, momentum 0.9, warmup + cosine, clipping at global norm 10; see
 * `warmup-cosine-sgd.ts`), prune experts by each criterion and measure the test accuracy and the
 * routing health at evaluation. Optionally the same pretrained model is fine-tuned a second time with
 * Adam (the optimiser of this reproduction before issue 15), to show what the optimiser does to the
 * router-change criterion.
 */
import * as tf from '@tensorflow/tfjs';
import { MixtureOfExperts, requireCapability, type Router, type RoutingMetrics } from '@moekit/core';
import { loadMnist } from '@moekit/datasets';
import { FeedForwardExperts } from '@moekit/experts-ffn';
import { countParameters, expertScores, expertsToKeep, pruningReport, type PruningCriterion, type PruningReportRow } from '@moekit/pruning';
import { TopKRouter } from '@moekit/router-topk';
import { loadHealth } from '../stats/seed-statistics.js';
import { WarmupCosineSgd } from './warmup-cosine-sgd.js';

/** Sizes and settings of {@link pruningExperiment}. */
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
  /** Pruning ratios to report (0 = the unpruned model). */
  ratios: number[];
  /** Peak learning rate of the SGD fine-tuning (end 1e-5, warmup the first 10% of the steps, as the authors' 100 of 1000). */
  peakLearningRate: number;
  /** Also fine-tune the pretrained model with Adam (3e-3) and prune it at 50% by router change, random and load. */
  adamAblation: boolean;
  /** Seed of every initialiser, the router noise and the random criterion. */
  seed: number;
}

/** Routing health of one evaluation pass over the test set. */
export interface RoutingHealth {
  /** Coefficient of variation of the kept load over the model's experts. */
  cv: number;
  /** Experts that received no test token. */
  dead: number;
  /** Dropped (token, expert) pairs / all pairs asked for. */
  dropped: number;
  /** Fraction of test tokens no expert processed. */
  withoutExpert: number;
}

/** One criterion at one ratio, with the routing health of the pruned model at evaluation. */
export interface PrunedRow extends PruningReportRow {
  health: RoutingHealth;
}

/** What a fine-tuning with Adam does to the criteria at 50% (the ablation). */
export interface AdamAblation {
  fullAccuracy: number;
  rows: PrunedRow[];
  keptUse: KeptUse;
}

/** How much the fine-tuned task uses the experts the router-change criterion keeps at 50% (calibration batch, evaluation mode). */
export interface KeptUse {
  /** Kept experts that no calibration (token, choice) pair names. */
  unused: number;
  /** Share of the calibration pairs that name a kept expert. */
  share: number;
}

/** One seed's measurements. */
export interface PruningSeedResult {
  fullAccuracy: number;
  /** Trainable parameters of the unpruned model (projection, MoE, 5-way head). */
  fullParameters: number;
  fullHealth: RoutingHealth;
  rows: PrunedRow[];
  /** Per-expert router-change and load scores of the SGD fine-tuned model. */
  scores: { routerChange: number[]; load: number[] };
  /** Use of the experts the router-change criterion keeps at 50%. */
  keptUse: KeptUse;
  adam: AdamAblation | undefined;
  testCount: number;
}

const PIXELS = 784;
const TASK = [0, 1, 2, 3, 4];
const BATCH = 100;
type Data = { x: tf.Tensor2D; y: tf.Tensor1D; n: number };
type Dense = { w: tf.Variable; b: tf.Variable };

function mnistTensors(split: 'train' | 'test', offset: number, count: number, keep: number[]): Data {
  const slice = loadMnist({ split, offset, count });
  const rows: number[] = [];
  for (let i = 0; i < slice.count; i++) if (keep.includes(slice.labels[i]!)) rows.push(i);
  const images = new Float32Array(rows.length * PIXELS);
  rows.forEach((r, i) => images.set(slice.images.subarray(r * PIXELS, (r + 1) * PIXELS), i * PIXELS));
  return { x: tf.tensor2d(images, [rows.length, PIXELS]), y: tf.tensor1d(Int32Array.from(rows, (r) => keep.indexOf(slice.labels[r]!)), 'int32'), n: rows.length };
}

function dense(inputs: number, units: number, seed: number): Dense {
  const limit = Math.sqrt(6 / (inputs + units));
  return tf.tidy(() => ({ w: tf.variable(tf.randomUniform([inputs, units], -limit, limit, 'float32', seed)), b: tf.variable(tf.zeros([units])) }));
}

function healthOf(metrics: RoutingMetrics): RoutingHealth {
  const { cv, dead } = loadHealth(metrics.load);
  return { cv, dead, dropped: metrics.droppedFraction, withoutExpert: metrics.tokensWithoutExpert };
}

/** Runs the experiment for one seed. */
export async function pruningExperiment(o: PruningExperimentOptions): Promise<PruningSeedResult> {
  const D = o.dim;
  const projection = dense(PIXELS, D, o.seed);
  const moe = new MixtureOfExperts({
    router: new TopKRouter({ numExperts: o.experts, k: 2, inputDim: D, noise: 'gaussian', seed: o.seed }), // V-MoE's router, as the paper prunes
    experts: new FeedForwardExperts({ numExperts: o.experts, inputDim: D, hiddenDim: D, seed: o.seed }),
    capacity: { train: 1.5, eval: 0 }, // the authors' (V-MoE's) training capacity factor; dropless evaluation
  });
  const hidden = (x: tf.Tensor2D) => tf.relu(tf.add(tf.matMul(x, projection.w), projection.b)) as tf.Tensor2D; // [B, D]
  // V-MoE's block x + MoE(x): the residual carries a token whose choices were dropped (training) or pruned.
  const classify = (model: MixtureOfExperts, head: Dense, x: tf.Tensor2D, training: boolean) => {
    const h = hidden(x); // [B, D]
    const r = model.apply(h, { training });
    const logits = tf.add(tf.matMul(tf.add(h, r.output) as tf.Tensor2D, head.w), head.b) as tf.Tensor2D; // [B, classes]
    return { logits, aux: r.auxLosses, metrics: r.metrics };
  };
  const backbone = () => [projection.w, projection.b, ...moe.trainableVariables];
  const lossOf = (head: Dense, data: Data, start: number, classes: number) => () => {
    const xb = tf.slice(data.x, [start, 0], [BATCH, -1]); // [B, 784]
    const yb = tf.oneHot(tf.slice(data.y, [start], [BATCH]), classes); // [B, classes]
    const { logits, aux } = classify(moe, head, xb, true);
    return tf.add(tf.losses.softmaxCrossEntropy(yb, logits), aux.total) as tf.Scalar;
  };
  const trainAdam = (data: Data, head: Dense, classes: number) => {
    const optimizer = tf.train.adam(3e-3);
    for (let epoch = 0; epoch < o.epochs; epoch++) {
      for (let start = 0; start + BATCH <= data.n; start += BATCH) {
        tf.tidy(() => { optimizer.minimize(lossOf(head, data, start, classes), false, [...backbone(), head.w, head.b]); });
      }
    }
    optimizer.dispose();
  };
  const trainSgd = (data: Data, head: Dense, classes: number) => {
    const totalSteps = o.epochs * Math.floor(data.n / BATCH);
    const sgd = new WarmupCosineSgd({ schedule: { peak: o.peakLearningRate, end: 1e-5, warmupSteps: Math.max(1, Math.round(totalSteps / 10)), totalSteps } });
    for (let epoch = 0; epoch < o.epochs; epoch++) {
      for (let start = 0; start + BATCH <= data.n; start += BATCH) sgd.step(lossOf(head, data, start, classes), [...backbone(), head.w, head.b]);
    }
    sgd.dispose();
  };
  const evaluate = (model: MixtureOfExperts, head: Dense, data: Data) => {
    let health: RoutingHealth | undefined;
    const correct = tf.tidy(() => {
      const { logits, aux, metrics } = classify(model, head, data.x, false); // one pass over the whole test set
      health = healthOf(metrics);
      tf.dispose(Object.values(aux));
      return tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), data.y), 'float32'));
    });
    const accuracy = correct.dataSync()[0]! / data.n;
    correct.dispose();
    return { accuracy, health: health! };
  };
  const otherParameters = PIXELS * D + D + D * TASK.length + TASK.length; // projection and 5-way head
  const report = async (head: Dense, data: Data, calibration: tf.Tensor, pretrainedRouter: Router, criteria: PruningCriterion[], ratios: number[]) => {
    const healths: RoutingHealth[] = []; // in the order pruningReport evaluates: criterion-major, as its rows
    const rows = await pruningReport({
      model: moe, ratios, criteria, pretrainedRouter, calibration, seed: o.seed,
      otherParameters,
      evaluate: (pruned) => { const r = evaluate(pruned, head, data); healths.push(r.health); return r.accuracy; },
    });
    return rows.map((row, i) => ({ ...row, health: healths[i]! }));
  };
  const keptUse = (pretrainedRouter: Router, calibration: tf.Tensor) => {
    const load = expertScores(moe, 'load', { calibration });
    const kept = expertsToKeep(expertScores(moe, 'routerChange', { pretrainedRouter }), Math.ceil(o.experts / 2));
    const total = load.reduce((a, b) => a + b, 0);
    return { load, use: { unused: kept.filter((e) => load[e] === 0).length, share: kept.reduce((a, e) => a + load[e]!, 0) / total } };
  };

  const pretrainData = mnistTensors('train', 0, o.pretrainSize, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  const pretrainHead = dense(D, 10, o.seed + 1);
  trainAdam(pretrainData, pretrainHead, 10);
  const pretrainedRouter = requireCapability(moe.router, 'selectExperts', 'pruningExperiment', 'router').selectExperts([...Array(o.experts).keys()]) as Router; // snapshot w^(0)
  const pretrained = backbone().map((v) => v.clone()); // to fine-tune a second time (the Adam ablation)
  const finetuneData = mnistTensors('train', o.pretrainSize, o.finetuneSize, TASK);
  const testData = mnistTensors('test', 0, o.testSize, TASK);
  const calibrate = () => tf.tidy(() => hidden(tf.slice(finetuneData.x, [0, 0], [Math.min(500, finetuneData.n), -1]))); // the fine-tuned MoE's inputs [500, D]

  const head = dense(D, TASK.length, o.seed + 2);
  trainSgd(finetuneData, head, TASK.length);
  const calibration = calibrate();
  const full = evaluate(moe, head, testData);
  const rows = await report(head, testData, calibration, pretrainedRouter, ['routerChange', 'random', 'load', 'importance', 'weightNorm'], o.ratios.filter((r) => r > 0));
  const sgdUse = keptUse(pretrainedRouter, calibration);
  const scores = { routerChange: expertScores(moe, 'routerChange', { pretrainedRouter }), load: sgdUse.load };

  let adam: AdamAblation | undefined;
  if (o.adamAblation) {
    backbone().forEach((v, i) => v.assign(pretrained[i]!));
    const adamHead = dense(D, TASK.length, o.seed + 2); // the same initial head
    trainAdam(finetuneData, adamHead, TASK.length);
    const adamCalibration = calibrate();
    adam = {
      fullAccuracy: evaluate(moe, adamHead, testData).accuracy,
      rows: await report(adamHead, testData, adamCalibration, pretrainedRouter, ['routerChange', 'random', 'load'], [0.5]),
      keptUse: keptUse(pretrainedRouter, adamCalibration).use,
    };
    tf.dispose([adamHead.w, adamHead.b, adamCalibration]);
  }

  const testCount = testData.n;
  const fullParameters = countParameters(moe) + otherParameters;
  tf.dispose([pretrainData.x, pretrainData.y, finetuneData.x, finetuneData.y, testData.x, testData.y, calibration, projection.w, projection.b, pretrainHead.w, pretrainHead.b, head.w, head.b, ...pretrained]);
  pretrainedRouter.dispose();
  moe.dispose();
  return { fullAccuracy: full.accuracy, fullParameters, fullHealth: full.health, rows, scores, keptUse: sgdUse.use, adam, testCount };
}
