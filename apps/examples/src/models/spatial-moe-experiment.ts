/**
 * Spatial MoE (Dryden & Hoefler 2022) on a synthetic field whose regions follow different rules: each
 * sample is a field of i.i.d. normal values on an `S × S` grid, and the target at each location is one of
 * four 3 × 3 stencils (each of unit output variance) applied to it, the stencil chosen by the location's region (a disc and a diagonal
 * half-plane cut the grid into four). Models: an SMoE (a learned `[S, S, E]` gate, `E` one-filter 3 × 3
 * experts, top-1) trained with the paper's routing-classification loss and expert error damping, the same
 * SMoE trained by the task loss alone, a conv of equal active compute (one 3 × 3 filter), and a conv net
 * of the SMoE's total compute (`E` filters, ReLU, 1 × 1 mix).
 */
import * as tf from '@tensorflow/tfjs';
import { correctByErrorQuantile, partitionAgreement, routingClassificationLabels, routingClassificationLoss, SpatialGate, SpatialMoE } from '@moekit/experts-conv';
import { encodePng, EXPERT_PALETTE } from '@moekit/experts-hash-nerf';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/** Sizes and seed of one run. */
export interface SpatialMoEExperimentOptions {
  /** Grid side `S`. */
  size: number;
  /** Adam steps. */
  steps: number;
  /** Fields per step. */
  batch: number;
  /** Experts of the SMoE (≥ 4 regions). */
  numExperts: number;
  /** Seed of initialisation, training fields and held-out fields. */
  seed: number;
  /** Adam learning rate. Default 0.02. */
  learningRate?: number;
  /** The quantile of |error| per field above which a routing counts as wrong (RC loss and damping). Default 0.7 (the reference's). */
  errorQuantile?: number;
  /** Expert error damping factor of the paper's variant. Default 0 (the reference's). */
  dampingFactor?: number;
  /** The gates' training noise (`SpatialGate`'s `noiseStdScale`: sd `noiseStdScale / E`). Default 1 (the reference's scale when its noise is on). */
  noiseStdScale?: number;
}

/** One model's result. */
export interface SpatialModelResult {
  name: string;
  /** Held-out MSE over the mean square of the target (0 perfect, 1 = predicting 0). */
  relativeMse: number;
  /** Best-permutation agreement of the gate map with the true regions (SMoEs only). */
  agreement?: number;
  /** The same agreement of the gate at initialisation (SMoEs only): what a gate that learned nothing scores. */
  initialAgreement?: number;
  /** Locations per expert on the gate map (SMoEs only). */
  load?: number[];
  /** Gate map `[S·S]` (SMoEs only). */
  gateMap?: Int32Array;
  parameters: number;
  /** Multiply-adds per location (active). */
  activeMacs: number;
  seconds: number;
}

/**
 * The four rules (3 × 3 stencils, row-major), each scaled to unit output variance on i.i.d. N(0, 1) input
 * (Σ w² = 1) so that every region weighs the same in the MSE: identity, x-gradient / √2, Laplacian / √20,
 * negated box blur / 3.
 */
const RULES = [
  [0, 0, 0, 0, 1, 0, 0, 0, 0],
  [0, 0, 0, -1, 0, 1, 0, 0, 0].map((w) => w / Math.SQRT2),
  [0, 1, 0, 1, -4, 1, 0, 1, 0].map((w) => w / Math.sqrt(20)),
  [-1, -1, -1, -1, -1, -1, -1, -1, -1].map((w) => w / 3),
];

/** The true region of each location, `[S·S]`: 2·[below the diagonal x + y/2 > 0.7·S] + [inside the disc]. */
export function trueRegions(size: number): Int32Array {
  const regions = new Int32Array(size * size);
  const c = size * 0.4;
  const r2 = (size * 0.28) ** 2;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const half = x + 0.5 * y > 0.7 * size ? 2 : 0;
      const disc = (x - c) ** 2 + (y - c) ** 2 < r2 ? 1 : 0;
      regions[y * size + x] = half + disc;
    }
  }
  return regions;
}

/** The target field: each location's rule applied to `x` `[B, S, S, 1]` → `[B, S, S, 1]`. */
function target(x: tf.Tensor4D, regionMask: tf.Tensor3D, rules: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => tf.sum(tf.mul(tf.conv2d(x, rules, 1, 'same'), regionMask), -1, true) as tf.Tensor4D); // [B, S, S, R] · [S, S, R]
}

interface Model {
  name: string;
  variables: tf.Variable[];
  /** The training loss of one step. */
  loss(x: tf.Tensor4D, y: tf.Tensor4D): tf.Scalar;
  predict(x: tf.Tensor4D): tf.Tensor4D;
  activeMacs: number;
  gate?: SpatialGate;
  dispose(): void;
}

function smoeModel(name: string, o: SpatialMoEExperimentOptions, paperTricks: boolean): Model {
  const E = o.numExperts;
  const gate = new SpatialGate({ height: o.size, width: o.size, numExperts: E, noiseStdScale: o.noiseStdScale ?? 1, seed: o.seed * 10 + 1 });
  const smoe = new SpatialMoE({ inputChannels: 1, numExperts: E, seed: o.seed * 10 + 2, dampingFactor: paperTricks ? o.dampingFactor ?? 0 : 1, errorQuantile: o.errorQuantile ?? 0.7 });
  return {
    name, gate, activeMacs: 9, variables: [gate.latent, smoe.kernel],
    loss: (x, y) => {
      const g = gate.routingWeights({ training: true }); // [S, S, E]
      const { output, expertIndex } = smoe.apply(x, g, { training: true });
      const mse = tf.mean(tf.square(tf.sub(output, y)));
      if (!paperTricks) return mse as tf.Scalar;
      // §2.2: selected experts whose |error| is within the per-field quantile are "correct"
      const labels = routingClassificationLabels(correctByErrorQuantile(tf.sub(output, y), o.errorQuantile ?? 0.7), expertIndex, E);
      return tf.add(mse, routingClassificationLoss(g, labels)) as tf.Scalar;
    },
    predict: (x) => tf.tidy(() => smoe.apply(x, gate.routingWeights()).output),
    dispose: () => { gate.dispose(); smoe.dispose(); },
  };
}

function convModel(name: string, o: SpatialMoEExperimentOptions, filters: number): Model {
  const he = (shape: number[], fanIn: number, seed: number): tf.Variable => {
    const init = tf.randomNormal(shape, 0, Math.sqrt(2 / fanIn), 'float32', seed);
    const v = tf.variable(init); // shares init's data; init itself is released
    init.dispose();
    return v;
  };
  const k1 = he([3, 3, 1, filters], 9, o.seed * 10 + 3);
  const k2 = filters > 1 ? he([1, 1, filters, 1], filters, o.seed * 10 + 4) : undefined;
  const predict = (x: tf.Tensor4D) => tf.tidy(() => {
    const h = tf.conv2d(x, k1 as tf.Tensor4D, 1, 'same'); // [B, S, S, filters]
    return k2 ? tf.conv2d(tf.relu(h), k2 as tf.Tensor4D, 1, 'same') : h;
  });
  return {
    name, activeMacs: 9 * filters + (k2 ? filters : 0), variables: k2 ? [k1, k2] : [k1],
    loss: (x, y) => tf.mean(tf.square(tf.sub(predict(x), y))) as tf.Scalar,
    predict,
    dispose: () => tf.dispose(k2 ? [k1, k2] : [k1]),
  };
}

/** Trains the four models on the same fields (same seed) and evaluates them on 32 held-out fields. */
export function spatialMoEExperiment(o: SpatialMoEExperimentOptions): SpatialModelResult[] {
  const S = o.size;
  const regions = trueRegions(S);
  const regionMask = tf.tidy(() => tf.cast(tf.reshape(tf.oneHot(tf.tensor1d(regions, 'int32'), RULES.length), [S, S, RULES.length]), 'float32')) as tf.Tensor3D; // [S, S, R]
  const rules = tf.tensor4d(RULES[0]!.map((_, p) => RULES.map((rule) => rule[p]!)).flat(), [3, 3, 1, RULES.length]); // [3, 3, 1, R]
  const testX = tf.randomNormal([32, S, S, 1], 0, 1, 'float32', o.seed * 1000 + 999) as tf.Tensor4D;
  const testY = target(testX, regionMask, rules);
  const testPower = tf.tidy(() => tf.mean(tf.square(testY)).dataSync()[0]!);
  const models = [
    smoeModel(`SMoE (E = ${o.numExperts}, top-1), RC loss + damping`, o, true),
    smoeModel(`SMoE (E = ${o.numExperts}, top-1), task loss only`, o, false),
    convModel('conv, equal active compute (one 3 × 3 filter)', o, 1),
    convModel(`conv net, E = ${o.numExperts} filters + ReLU + 1 × 1`, o, o.numExperts),
  ];
  const results: SpatialModelResult[] = [];
  for (const model of models) {
    const started = performance.now();
    const initialMap = model.gate ? tf.tidy(() => model.gate!.gateMap().dataSync() as Int32Array) : undefined;
    const optimizer = tf.train.adam(o.learningRate ?? 0.02);
    for (let step = 0; step < o.steps; step++) {
      tf.tidy(() => {
        const x = tf.randomNormal([o.batch, S, S, 1], 0, 1, 'float32', o.seed * 1_000_000 + step) as tf.Tensor4D; // the same fields for every model
        const y = target(x, regionMask, rules);
        optimizer.minimize(() => model.loss(x, y), false, model.variables);
      });
    }
    optimizer.dispose();
    const relativeMse = tf.tidy(() => tf.mean(tf.square(tf.sub(model.predict(testX), testY))).dataSync()[0]!) / testPower;
    const result: SpatialModelResult = {
      name: model.name, relativeMse, activeMacs: model.activeMacs,
      parameters: model.variables.reduce((n, v) => n + v.size, 0), seconds: (performance.now() - started) / 1000,
    };
    if (model.gate) {
      const mapTensor = model.gate.gateMap();
      const gateMap = mapTensor.dataSync() as Int32Array;
      mapTensor.dispose();
      const load = new Array<number>(o.numExperts).fill(0);
      for (const e of gateMap) load[e]! += 1;
      Object.assign(result, { gateMap, load, agreement: partitionAgreement(gateMap, regions), initialAgreement: partitionAgreement(initialMap!, regions) });
    }
    model.dispose();
    results.push(result);
  }
  tf.dispose([regionMask, rules, testX, testY]);
  return results;
}

/** A PNG of the true regions (left) and a learned gate map (right), `scale` pixels per location, colours by label. */
export function gateMapPng(size: number, gateMap: ArrayLike<number>, scale = 8): Uint8Array {
  const regions = trueRegions(size);
  const gap = 2;
  const width = (2 * size + gap) * scale;
  const height = size * scale;
  const rgb = new Uint8Array(width * height * 3).fill(255);
  for (let py = 0; py < height; py++) {
    for (let px = 0; px < width; px++) {
      const cell = Math.floor(px / scale);
      const y = Math.floor(py / scale);
      const label = cell < size ? regions[y * size + cell] : cell >= size + gap ? gateMap[y * size + cell - size - gap] : undefined;
      if (label === undefined) continue;
      const colour = EXPERT_PALETTE[label! % EXPERT_PALETTE.length]!;
      rgb.set(colour, (py * width + px) * 3);
    }
  }
  return encodePng(width, height, rgb);
}

/** Writes {@link gateMapPng} to `path` (creating its folder) and returns the path. */
export function writeGateMapPng(path: string, size: number, gateMap: ArrayLike<number>): string {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, gateMapPng(size, gateMap));
  return path;
}
