import * as tf from '@tensorflow/tfjs-core';
import { MixtureOfExperts } from '../mixture-of-experts.js';
import type { Router } from '../contracts/router.js';
import { LinearExpertBank } from './linear-expert-bank.js';

/** Options of {@link trainOnClusters}. */
export interface TrainOnClustersOptions {
  /** Input width (the router's `Dg`). Default 8. */
  inputDim?: number;
  /** Input clusters, each with its own linear map. Default 4. */
  numClusters?: number;
  /** Adam steps. Default 60. */
  steps?: number;
  /** Samples per step. Default 128. */
  batchSize?: number;
  /** Adam learning rate. Default 0.02. */
  learningRate?: number;
  /** Capacity factor while training. Default 2. */
  capacityFactor?: number;
  /** Seed of the data and the experts. Default 0. */
  seed?: number;
  /** The aux-loss parts that make up the reported balance loss. Default: every part but `total` and `zLoss` (which measures logit size, not balance). */
  balanceParts?: string[];
}

/** A quantity at the start and at the end of training. */
export interface FirstAndLast {
  /** At the start (the first step, or the mean of the first tenth of the steps). */
  first: number;
  /** At the end (the mean of the last tenth of the steps). */
  last: number;
}

/** What {@link trainOnClusters} measured: first and last values, and the final routing. */
export interface ClustersTrainingReport {
  /** Task MSE of the first and the last step. */
  taskLoss: FirstAndLast;
  /** Sum of the router's unweighted balance parts (see `balanceParts`), first and last step. */
  balanceLoss: FirstAndLast;
  /** Tokens each expert kept in the last step. */
  finalLoad: number[];
}

/**
 * Trains an MoE of linear experts behind `router` with `tf.train.adam` on clustered inputs with one
 * linear map per cluster (a task an MoE can fit and a single linear layer cannot), and reports the
 * task loss, the router's balance loss and the final load: the check every router package runs to show
 * that its router trains. The router must route `inputDim`-wide inputs; it is not disposed.
 */
export function trainOnClusters(router: Router, options: TrainOnClustersOptions = {}): ClustersTrainingReport {
  const inputDim = options.inputDim ?? 8;
  const numClusters = options.numClusters ?? 4;
  const steps = options.steps ?? 60;
  const batchSize = options.batchSize ?? 128;
  const seed = options.seed ?? 0;
  const experts = new LinearExpertBank({ numExperts: router.numExperts, inputDim, outputDim: 2, seed: seed + 1 });
  const moe = new MixtureOfExperts({ router, experts, capacity: { train: options.capacityFactor ?? 2 } });
  const optimizer = tf.train.adam(options.learningRate ?? 0.02);
  const [centers, maps] = tf.tidy(() => [
    tf.mul(tf.randomNormal([numClusters, inputDim], 0, 1, 'float32', seed + 2), 3), // [C, D]
    tf.randomNormal([numClusters, inputDim, 2], 0, 1 / Math.sqrt(inputDim), 'float32', seed + 3), // [C, D, 2]
  ]);
  const taskLosses: number[] = [];
  const balanceLosses: number[] = [];
  let finalLoad: number[] = [];
  for (let step = 0; step < steps; step++) {
    const [x, y] = tf.tidy(() => {
      const cluster = tf.randomUniformInt([batchSize], 0, numClusters, seed + 10 + step); // [B]
      const xs = tf.add(tf.gather(centers!, cluster), tf.randomNormal([batchSize, inputDim], 0, 1, 'float32', seed + 1000 + step)); // [B, D]
      const ys = tf.squeeze(tf.matMul(tf.expandDims(xs, 1), tf.gather(maps!, cluster)), [1]); // [B, 2]
      return [xs, ys];
    });
    optimizer.minimize(() => {
      const r = moe.apply(x!, { training: true });
      const task = tf.mean(tf.square(tf.sub(r.output, y!))) as tf.Scalar;
      taskLosses.push(task.dataSync()[0]!);
      const isBalance = (name: string) => (options.balanceParts ? options.balanceParts.includes(name) : name !== 'total' && name !== 'zLoss');
      const parts = Object.entries(r.auxLosses).filter(([name]) => isBalance(name)).map(([, v]) => v.dataSync()[0]!);
      balanceLosses.push(parts.reduce((a, b) => a + b, 0));
      finalLoad = r.metrics.load;
      return tf.add(task, r.auxLosses.total) as tf.Scalar;
    }, false, moe.trainableVariables);
    tf.dispose([x!, y!]);
  }
  tf.dispose([centers!, maps!]);
  optimizer.dispose();
  experts.dispose();
  const mean = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length;
  const window = Math.max(1, Math.floor(steps / 10));
  return {
    taskLoss: { first: mean(taskLosses.slice(0, window)), last: mean(taskLosses.slice(-window)) },
    balanceLoss: { first: balanceLosses[0]!, last: mean(balanceLosses.slice(-window)) },
    finalLoad,
  };
}
