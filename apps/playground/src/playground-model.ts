// The models the playground trains: a one-layer MoE classifier (every moekit router, FFN experts) and
// the dense MLP of equal active compute it is compared against.
import * as tf from '@tensorflow/tfjs';
import { GatedRouter, LinearGate, MixtureOfExperts, isPlannedOutput, type CapacityConfig, type Router } from '@moekit/core';
import { FeedForwardExperts } from '@moekit/experts-ffn';
import { balancedAssignmentRouter, expertChoiceRouter, hashRouter, softMoERouter } from '@moekit/router-balanced';
import { switchRouter } from '@moekit/router-switch';
import { topKChoice, topKRouter } from '@moekit/router-topk';
import { MNIST_PIXELS } from './mnist-subset.js';

/** MNIST's ten digits. */
export const NUM_CLASSES = 10;

/** The routers a visitor can pick, by the name of the moekit component behind each. */
export const routerKinds = ['topK', 'switch', 'hash', 'expertChoice', 'softMoE', 'base', 'sigmoidTopK'] as const;
/** One of {@link routerKinds}. */
export type RouterKind = (typeof routerKinds)[number];

/** What the page says about each router: its label, and which of k / capacity factor it uses. */
export const routerInfo: Record<RouterKind, { label: string; usesK: boolean; usesCapacity: boolean }> = {
  topK: { label: 'TopKRouter — noisy top-k (Shazeer et al. 2017)', usesK: true, usesCapacity: true },
  switch: { label: 'SwitchRouter — top-1 (Fedus et al. 2021)', usesK: false, usesCapacity: true },
  hash: { label: 'HashRouter — hashed feature buckets (Roller et al. 2021)', usesK: false, usesCapacity: true },
  expertChoice: { label: 'Expert choice (Zhou et al. 2022)', usesK: false, usesCapacity: true },
  softMoE: { label: 'Soft MoE (Puigcerver et al. 2023)', usesK: false, usesCapacity: false },
  base: { label: 'BASE balanced assignment (Lewis et al. 2021)', usesK: false, usesCapacity: true },
  sigmoidTopK: { label: 'TopKChoice, sigmoid gating (DeepSeek-V3)', usesK: true, usesCapacity: true },
};

/** What the visitor chose. */
export interface MoEModelArgs {
  router: RouterKind;
  /** Experts `E`. */
  numExperts: number;
  /** Experts per token `K` (top-k routers; the others route each token to one expert or slot). */
  k: number;
  /** Capacity factor: token choice's training factor (evaluation is dropless), expert choice's `c`. */
  capacityFactor: number;
  /** Hidden width `H` of each FFN expert. */
  hiddenDim: number;
  /** Seed of every initialiser. */
  seed: number;
}

/** A classifier the trainer can step and evaluate. */
export interface Classifier {
  /** Hidden units one image passes through (the MoE's `K·H`, the dense model's width). */
  readonly activeHidden: number;
  /** Experts `E` (0 for the dense model). */
  readonly numExperts: number;
  /** One optimiser step on `x` `[B, 784]`, `y` one-hot `[B, 10]`: the task loss and, for an MoE, its load per expert. */
  trainStep(x: tf.Tensor2D, y: tf.Tensor2D, optimizer: tf.Optimizer): { loss: number; load?: number[] };
  /** Fraction of `x`'s images classified as `labels` (evaluation mode). */
  accuracy(x: tf.Tensor2D, labels: tf.Tensor1D): number;
  /** `[E][10]`: how many of `x`'s images of each digit the router sends first to each expert (empty for dense). */
  expertClassMatrix(x: tf.Tensor2D, labels: Uint8Array): number[][];
  /** Releases every variable. */
  dispose(): void;
}

/** Experts per token the chosen router actually uses. */
export function effectiveK(args: Pick<MoEModelArgs, 'router' | 'k'>): number {
  return routerInfo[args.router].usesK ? args.k : 1;
}

/** The router for `args` over `inputDim`-wide inputs, built with its package's factory. */
export function createRouter(args: MoEModelArgs, inputDim: number): Router {
  const { numExperts, k, capacityFactor, seed } = args;
  switch (args.router) {
    case 'topK':
      return topKRouter({ numExperts, k, inputDim, seed });
    case 'switch':
      return switchRouter({ numExperts, inputDim, seed });
    case 'hash':
      return hashRouter({ numExperts, hashOf: 'featureBucket', inputDim, seed });
    case 'expertChoice':
      return expertChoiceRouter({ numExperts, capacityFactor, inputDim, seed });
    case 'softMoE':
      return softMoERouter({ numExperts, inputDim, seed });
    case 'base':
      return balancedAssignmentRouter({ numExperts, inputDim, seed });
    case 'sigmoidTopK':
      return new GatedRouter({ gate: new LinearGate({ numOutputs: numExperts, inputDim, seed }), algorithm: topKChoice({ numExperts, k, gating: 'sigmoid' }) });
  }
}

/** Reads a scalar into a host number and disposes of it. */
function readScalar(t: tf.Tensor): number {
  const value = t.dataSync()[0]!;
  t.dispose();
  return value;
}

function accuracyOf(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Scalar {
  return tf.mean(tf.cast(tf.equal(tf.argMax(logits, 1), tf.cast(labels, 'int32')), 'float32')) as tf.Scalar;
}

/** A one-layer MoE classifier: `MixtureOfExperts(router, FeedForwardExperts(784 → H → 10))` on the pixels. */
export class MoEClassifier implements Classifier {
  readonly moe: MixtureOfExperts;
  readonly activeHidden: number;
  readonly numExperts: number;

  constructor(readonly args: MoEModelArgs) {
    const router = createRouter(args, MNIST_PIXELS);
    const experts = new FeedForwardExperts({ numExperts: args.numExperts, inputDim: MNIST_PIXELS, hiddenDim: args.hiddenDim, outputDim: NUM_CLASSES, seed: args.seed + 1 });
    // the chosen factor in training; evaluation dropless (one [E] read per call), so test accuracy
    // measures the routing rather than the drops
    const capacity: CapacityConfig | undefined = routerInfo[args.router].usesCapacity ? { train: args.capacityFactor, eval: 0 } : undefined;
    this.moe = new MixtureOfExperts({ router, experts, ...(capacity && args.router !== 'expertChoice' ? { capacity } : {}) });
    this.activeHidden = effectiveK(args) * args.hiddenDim;
    this.numExperts = args.numExperts;
  }

  trainStep(x: tf.Tensor2D, y: tf.Tensor2D, optimizer: tf.Optimizer): { loss: number; load: number[] } {
    let task: tf.Scalar | undefined;
    optimizer.minimize(() => {
      const { output, auxLosses } = this.moe.apply(x, { training: true }); // output [B, 10]
      task = tf.keep(tf.losses.softmaxCrossEntropy(y, output) as tf.Scalar);
      return tf.add(task, auxLosses.total) as tf.Scalar; // task loss + the router's weighted aux losses
    }, false, this.moe.trainableVariables);
    const loss = readScalar(task!);
    return { loss, load: this.moe.lastMetrics!.load };
  }

  accuracy(x: tf.Tensor2D, labels: tf.Tensor1D): number {
    return readScalar(tf.tidy(() => accuracyOf(this.moe.apply(x, { training: false }).output as tf.Tensor2D, labels)));
  }

  expertClassMatrix(x: tf.Tensor2D, labels: Uint8Array): number[][] {
    const first = tf.tidy(() => {
      const out = this.moe.router.route(x, { training: false });
      // token choice: the first chosen expert; a planned router (expert choice, Soft MoE, BASE): the most probable
      return isPlannedOutput(out) ? tf.argMax(out.probs, 1) : tf.reshape(tf.slice(out.expertIndex, [0, 0], [-1, 1]), [-1]); // [T]
    });
    const experts = first.dataSync();
    first.dispose();
    const matrix = Array.from({ length: this.numExperts }, () => new Array<number>(NUM_CLASSES).fill(0));
    experts.forEach((e, t) => {
      if (e >= 0) matrix[e]![labels[t]!]! += 1;
    });
    return matrix;
  }

  dispose(): void {
    this.moe.dispose();
  }
}

/** The dense baseline of equal active compute: `784 → K·H (relu) → 10`, the width one image meets in the MoE. */
export class DenseClassifier implements Classifier {
  readonly numExperts = 0;
  private readonly variables: tf.Variable[];

  constructor(readonly activeHidden: number, seed: number) {
    const init = (shape: [number, number], s: number) => tf.variable(tf.initializers.glorotUniform({ seed: s }).apply(shape) as tf.Tensor2D);
    this.variables = [init([MNIST_PIXELS, activeHidden], seed), tf.variable(tf.zeros([activeHidden])), init([activeHidden, NUM_CLASSES], seed + 1), tf.variable(tf.zeros([NUM_CLASSES]))];
  }

  private logits(x: tf.Tensor2D): tf.Tensor2D {
    const [w1, b1, w2, b2] = this.variables as [tf.Variable, tf.Variable, tf.Variable, tf.Variable];
    const h = tf.relu(tf.add(tf.matMul(x, w1), b1)) as tf.Tensor2D; // [B, K·H]
    return tf.add(tf.matMul(h, w2), b2) as tf.Tensor2D; // [B, 10]
  }

  trainStep(x: tf.Tensor2D, y: tf.Tensor2D, optimizer: tf.Optimizer): { loss: number } {
    const cost = optimizer.minimize(() => tf.losses.softmaxCrossEntropy(y, this.logits(x)) as tf.Scalar, true, this.variables);
    return { loss: readScalar(cost!) };
  }

  accuracy(x: tf.Tensor2D, labels: tf.Tensor1D): number {
    return readScalar(tf.tidy(() => accuracyOf(this.logits(x), labels)));
  }

  expertClassMatrix(): number[][] {
    return [];
  }

  dispose(): void {
    tf.dispose(this.variables);
  }
}
