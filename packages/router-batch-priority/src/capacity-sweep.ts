import * as tf from '@tensorflow/tfjs-core';
import { MixtureOfExperts, MoEArgumentError, type ExpertBank, type Router } from '@moekit/core';
import { BatchPriorityRouter } from './batch-priority-router.js';

/** A trained model around one MoE layer, as {@link capacitySweep} evaluates it. */
export interface CapacitySweepModel {
  /** The trained top-k router. */
  router: Router;
  /** The trained experts. */
  experts: ExpertBank;
  /** Class scores `[N, classes]` for inputs `x`, computed with `moe` as the model's MoE layer (called with `training: false`). */
  predict(x: tf.Tensor, moe: MixtureOfExperts): tf.Tensor;
}

/** The evaluation set of {@link capacitySweep}. */
export interface SweepData {
  /** Inputs `[N, ...]`. */
  x: tf.Tensor;
  /** Integer labels `[N]`. */
  labels: tf.Tensor1D;
}

/** Options of {@link capacitySweep}. */
export interface CapacitySweepOptions {
  /** The model to evaluate. */
  model: CapacitySweepModel;
  /** Inputs `x` `[N, ...]` and integer labels `[N]`. */
  data: SweepData;
  /** Test-time capacity ratios `c` (V-MoE: `C = ceil(c · K · T / E)`), each > 0. */
  ratios: number[];
  /** Samples per evaluation batch (T of each routing call). Default 256. */
  batchSize?: number;
}

/** Accuracy and drops at one capacity ratio, with or without BPR. */
export interface SweepResult {
  /** Fraction of samples whose top class is the label. */
  accuracy: number;
  /** Fraction of (token, choice) pairs dropped. */
  droppedFraction: number;
}

/** One point of the capacity/accuracy trade-off. */
export interface CapacitySweepPoint {
  /** The capacity ratio `c`. */
  ratio: number;
  /** Tokens placed in batch order. */
  vanilla: SweepResult;
  /** Tokens placed by Batch Priority Routing. */
  bpr: SweepResult;
}

function evaluate(model: CapacitySweepModel, router: Router, ratio: number, data: CapacitySweepOptions['data'], batchSize: number): SweepResult {
  const moe = new MixtureOfExperts({ router, experts: model.experts, capacity: { eval: ratio }, dropWarning: 1 }); // drops are what the sweep measures and reports: no warning
  const n = data.x.shape[0]!;
  let correct = 0;
  let dropped = 0;
  let needed = 0;
  for (let start = 0; start < n; start += batchSize) {
    const size = Math.min(batchSize, n - start);
    correct += tf.tidy(() => {
      const x = tf.slice(data.x, start, size);
      const labels = tf.slice(data.labels, start, size);
      const scores = model.predict(x, moe);
      return tf.sum(tf.cast(tf.equal(tf.argMax(scores, -1), tf.cast(labels, 'int32')), 'float32')).dataSync()[0]!;
    });
    const m = moe.lastMetrics;
    if (m === undefined) throw new MoEArgumentError('capacitySweep', 'model.predict', 'a function that applies the given MoE', 'one that never called moe.apply');
    dropped += m.droppedCount;
    needed += m.needed.reduce((a, b) => a + b, 0);
  }
  return { accuracy: correct / n, droppedFraction: needed === 0 ? 0 : dropped / needed };
}

/**
 * V-MoE's test-time capacity trade-off (Riquelme et al. 2021, §4.1, Fig. 6): evaluates a trained
 * model at several capacity ratios, placing tokens in batch order and with Batch Priority Routing,
 * and returns accuracy and dropped fraction per ratio. Without BPR accuracy collapses as the capacity
 * shrinks; with it the model keeps the tokens its router is most sure of. The model's weights are
 * shared, never copied or disposed.
 *
 * @example
 * ```ts
 * import { capacitySweep } from '@moekit/router-batch-priority';
 *
 * const points = capacitySweep({ model, data: { x, labels }, ratios: [0.1, 0.25, 0.5, 1, 2] });
 * for (const p of points) console.log(p.ratio, p.vanilla.accuracy, p.bpr.accuracy);
 * ```
 */
export function capacitySweep(options: CapacitySweepOptions): CapacitySweepPoint[] {
  const { model, data, ratios } = options;
  const batchSize = options.batchSize ?? 256;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new MoEArgumentError('capacitySweep', 'batchSize', 'an integer >= 1', String(batchSize));
  if (!Array.isArray(ratios) || ratios.length === 0) throw new MoEArgumentError('capacitySweep', 'ratios', 'a non-empty array of numbers > 0', String(ratios));
  for (const ratio of ratios) {
    if (!(ratio > 0) || !Number.isFinite(ratio)) throw new MoEArgumentError('capacitySweep', 'ratios', 'capacity ratios > 0', String(ratio));
  }
  if (data.labels.shape[0] !== data.x.shape[0]) {
    throw new MoEArgumentError('capacitySweep', 'data.labels', `${data.x.shape[0]} labels (one per row of data.x)`, `${data.labels.shape[0]}`);
  }
  const prioritised = new BatchPriorityRouter({ router: model.router }); // shares the router; never disposed here
  return ratios.map((ratio) => ({
    ratio,
    vanilla: evaluate(model, model.router, ratio, data, batchSize),
    bpr: evaluate(model, prioritised, ratio, data, batchSize),
  }));
}
