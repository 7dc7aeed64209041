/**
 * A toy task a Mixture of Experts solves far better than a dense FFN of the same active compute:
 * inputs come from `numClusters` Gaussian clusters, and each cluster has its own linear map
 * `y = x · A_c`. A gate that sends each cluster to its own expert lets every expert fit one map.
 */
import * as tf from '@tensorflow/tfjs';
import { MixtureOfExperts, type RoutingMetrics } from '@moekit/core';
import { FeedForwardExperts } from '@moekit/experts-ffn';
import { TopKRouter } from '@moekit/router-topk';

/** Sizes and training settings of the toy task. */
export interface ToyRegressionOptions {
  /** Input width. */
  inputDim: number;
  /** Output width. */
  outputDim: number;
  /** Clusters in the data, each with its own linear map. */
  numClusters: number;
  /** Experts in the MoE. */
  numExperts: number;
  /** Experts per token. */
  k: number;
  /** Hidden width of each expert and of the dense baseline (equal active compute per token). */
  hidden: number;
  /** Capacity factor while training. */
  capacityFactor: number;
  /** Training samples. */
  numSamples: number;
  /** Samples per step. */
  batchSize: number;
  /** Passes over the training data. */
  epochs: number;
  /** Adam learning rate. */
  learningRate: number;
  /** Seed of the data and the initialisers. */
  seed: number;
}

/** Defaults of the demo. */
export const toyRegressionDefaults: ToyRegressionOptions = {
  inputDim: 8,
  outputDim: 4,
  numClusters: 4,
  numExperts: 4,
  k: 1,
  hidden: 16,
  capacityFactor: 1.5,
  numSamples: 2048,
  batchSize: 128,
  epochs: 12,
  learningRate: 0.03,
  seed: 1,
};

/** What one epoch measured. */
export interface EpochRecord {
  /** 1-based epoch. */
  epoch: number;
  /** Mean training MSE of the MoE over the epoch's batches. */
  moeLoss: number;
  /** Mean training MSE of the dense baseline. */
  denseLoss: number;
  /** Mean unweighted balance loss: importance CV² + load CV² (0 = perfectly balanced). */
  balanceLoss: number;
  /** Tokens each expert kept over the epoch. */
  load: number[];
  /** Fraction of (token, choice) pairs dropped over the epoch. */
  droppedFraction: number;
}

/** Result of {@link trainToyRegression}. */
export interface ToyRegressionResult {
  /** One record per epoch. */
  history: EpochRecord[];
  /** Held-out MSE of the MoE (evaluation capacity). */
  moeTestLoss: number;
  /** Held-out MSE of the dense baseline. */
  denseTestLoss: number;
}

function makeData(o: ToyRegressionOptions, numSamples: number, seed: number): { x: tf.Tensor2D; y: tf.Tensor2D } {
  return tf.tidy(() => {
    const centers = tf.mul(tf.randomNormal([o.numClusters, o.inputDim], 0, 1, 'float32', o.seed), 4); // [C, D]
    const maps = tf.randomNormal([o.numClusters, o.inputDim, o.outputDim], 0, 1 / Math.sqrt(o.inputDim), 'float32', o.seed + 1); // [C, D, D']
    const cluster = tf.randomUniformInt([numSamples], 0, o.numClusters, seed); // [N]
    const x = tf.add(tf.gather(centers, cluster), tf.randomNormal([numSamples, o.inputDim], 0, 1, 'float32', seed + 1)); // [N, D]
    const y = tf.squeeze(tf.matMul(tf.expandDims(x, 1), tf.gather(maps, cluster)), [1]); // [N, D']
    return { x: x as tf.Tensor2D, y: y as tf.Tensor2D };
  });
}

/**
 * Trains an MoE of linear experts and a dense linear baseline side by side on the toy task,
 * calling `onEpoch` after each epoch.
 */
export function trainToyRegression(
  options: Partial<ToyRegressionOptions> = {},
  onEpoch: (record: EpochRecord) => void = () => {},
): ToyRegressionResult {
  const o = { ...toyRegressionDefaults, ...options };
  const train = makeData(o, o.numSamples, o.seed + 2);
  const test = makeData(o, 512, o.seed + 3);
  const moe = new MixtureOfExperts({
    // Shazeer's noisy top-k gate (Glorot-initialised, so the clusters are told apart from the start)
    router: new TopKRouter({ numExperts: o.numExperts, k: o.k, inputDim: o.inputDim, noise: 'shazeer', kernelInitializer: 'glorotUniform', seed: o.seed + 4 }),
    experts: new FeedForwardExperts({ numExperts: o.numExperts, inputDim: o.inputDim, hiddenDim: o.hidden, outputDim: o.outputDim, seed: o.seed + 5 }),
    capacityFactorTrain: o.capacityFactor,
  });
  // the dense baseline: one FFN of the same hidden width, i.e. the same active compute per token
  const dense = new FeedForwardExperts({ numExperts: 1, inputDim: o.inputDim, hiddenDim: o.hidden, outputDim: o.outputDim, seed: o.seed + 6 });
  const denseForward = (x: tf.Tensor) => tf.squeeze(dense.apply(tf.expandDims(x, 0)), [0]);
  const moeOptimizer = tf.train.adam(o.learningRate);
  const denseOptimizer = tf.train.adam(o.learningRate);
  const history: EpochRecord[] = [];
  const numBatches = Math.floor(o.numSamples / o.batchSize);

  for (let epoch = 1; epoch <= o.epochs; epoch++) {
    let moeLoss = 0;
    let denseLoss = 0;
    let balanceLoss = 0;
    let dropped = 0;
    let needed = 0;
    const load = new Array<number>(o.numExperts).fill(0);
    for (let b = 0; b < numBatches; b++) {
      const xb = tf.slice(train.x, [b * o.batchSize, 0], [o.batchSize, -1]);
      const yb = tf.slice(train.y, [b * o.batchSize, 0], [o.batchSize, -1]);
      let metrics: RoutingMetrics | undefined;
      let balance = 0;
      const mse = moeOptimizer.minimize(() => {
        const r = moe.apply(xb, { training: true });
        metrics = r.metrics;
        balance = r.auxLosses['importance']!.dataSync()[0]! + r.auxLosses['load']!.dataSync()[0]!;
        return tf.add(tf.losses.meanSquaredError(yb, r.output), r.auxLosses.total) as tf.Scalar;
      }, true, moe.trainableVariables)!;
      const denseMse = denseOptimizer.minimize(() => tf.losses.meanSquaredError(yb, denseForward(xb)) as tf.Scalar, true, dense.trainableVariables)!;
      moeLoss += mse.dataSync()[0]! / numBatches;
      denseLoss += denseMse.dataSync()[0]! / numBatches;
      balanceLoss += balance / numBatches;
      metrics!.load.forEach((l, e) => (load[e]! += l));
      dropped += metrics!.droppedCount;
      needed += metrics!.needed.reduce((a, c) => a + c, 0);
      tf.dispose([xb, yb, mse, denseMse]);
    }
    const record = { epoch, moeLoss, denseLoss, balanceLoss, load, droppedFraction: needed === 0 ? 0 : dropped / needed };
    history.push(record);
    onEpoch(record);
  }

  const evaluation = moe.apply(test.x, { training: false });
  const moeTestLoss = tf.tidy(() => tf.losses.meanSquaredError(test.y, evaluation.output).dataSync()[0]!);
  const denseTestLoss = tf.tidy(() => tf.losses.meanSquaredError(test.y, denseForward(test.x)).dataSync()[0]!);
  tf.dispose([evaluation.output, ...Object.values(evaluation.auxLosses), train.x, train.y, test.x, test.y]);
  dense.dispose();
  moeOptimizer.dispose();
  denseOptimizer.dispose();
  moe.dispose();
  return { history, moeTestLoss, denseTestLoss };
}
