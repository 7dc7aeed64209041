/**
 * The demo's MNIST MoE-CNN (after Pavlitska et al. 2022, arXiv:2204.10598: narrow ResBlock copies as
 * experts, routed per image by a conv gate) and the dense CNN of the same active compute beside it.
 *
 * Both share the same skeleton: a stem conv (stride 2) → a residual block stage (stride 2) → flatten →
 * dense 10. In the MoE the stage is `E` narrow ResBlock experts of which each image visits `k`; in the
 * dense model it is `k` ResBlocks of the same shape that every image visits (outputs averaged), so the
 * per-image FLOPs equal one MoE path's, the MoE's small gate aside.
 */
import * as tf from '@tensorflow/tfjs';
import { isPlannedOutput, MixtureOfExperts, type MoEOutput, type Router, type RoutingMetrics } from '@moekit/core';
import { ConvExperts, ConvGate } from '@moekit/experts-conv';

/** Sizes shared by {@link MnistMoECnn} and {@link MnistDenseCnn}. */
export interface MnistCnnSizes {
  /** Stem filters `C` (the stage's input and output channels). Default 16. */
  channels?: number;
  /** Channels inside each ResBlock (expert width). Default 16. */
  width?: number;
  /** Initialiser seed. Default 0. */
  seed?: number;
}

/** What a classifier on MNIST exposes to the training loop. */
export interface MnistClassifier {
  /** `[B, 28, 28, 1]` → logits `[B, 10]` and the weighted aux loss (0 for a dense model). */
  forward(images: tf.Tensor4D, training: boolean): { logits: tf.Tensor2D; aux: tf.Scalar; metrics?: RoutingMetrics };
  /** Every trainable variable. */
  readonly variables: tf.Variable[];
  /** Total parameter count. */
  parameterCount(): number;
  /** Parameters one image's forward pass uses. */
  activeParameterCount(): number;
  /** Releases every variable. */
  dispose(): void;
}

const size = (vs: tf.Variable[]) => vs.reduce((n, v) => n + v.size, 0);

/** The stem and head both models share. */
class StemAndHead {
  readonly stem: tf.Variable; // [3, 3, 1, C]
  readonly head: tf.Variable; // [7·7·C, 10]
  readonly headBias: tf.Variable; // [10]
  constructor(readonly channels: number, seed: number) {
    this.stem = tf.tidy(() => tf.variable(tf.randomNormal([3, 3, 1, channels], 0, Math.sqrt(2 / 9), 'float32', seed)));
    this.head = tf.tidy(() => tf.variable(tf.randomNormal([49 * channels, 10], 0, Math.sqrt(1 / (49 * channels)), 'float32', seed + 1)));
    this.headBias = tf.tidy(() => tf.variable(tf.zeros([10])));
  }
  features(x: tf.Tensor4D): tf.Tensor4D {
    return tf.relu(tf.conv2d(x, this.stem as tf.Tensor4D, 2, 'same')); // [B, 14, 14, C]
  }
  /** The stage's residual (a parameter-free 2×2 average pool, so an image the MoE drops is still carried) plus the stage, then the head. */
  logits(features: tf.Tensor4D, stage: tf.Tensor): tf.Tensor2D {
    const carried = tf.add(tf.avgPool(features, 2, 2, 'same'), stage); // [B, 7, 7, C]
    return tf.add(tf.matMul(tf.reshape(carried, [-1, 49 * this.channels]) as tf.Tensor2D, this.head as tf.Tensor2D), this.headBias) as tf.Tensor2D; // [B, 10]
  }
  get variables(): tf.Variable[] {
    return [this.stem, this.head, this.headBias];
  }
  dispose(): void {
    tf.dispose(this.variables);
  }
}

/** Arguments of {@link MnistMoECnn}. */
export interface MnistMoECnnArgs extends MnistCnnSizes {
  /** The router over the gate's features (its `numExperts` sets `E`, its `k` the paths per image). */
  router: Router;
  /** Capacity factor in training (0: dropless). Default 1.25. */
  capacityFactor?: number;
  /** Capacity factor in evaluation (0: dropless), or `'auto'` (default): dropless on cpu / wasm, 2 on a GPU backend. */
  evalCapacityFactor?: number | 'auto';
  /** Filters of the conv gate. Default 16. */
  gateFilters?: number;
}

/**
 * Stem → MoE of narrow ResBlock experts routed per image by a conv gate (Pavlitska et al. 2022 §3) →
 * head. Routing is per image: an image is one token.
 */
export class MnistMoECnn implements MnistClassifier {
  readonly moe: MixtureOfExperts;
  readonly gate: ConvGate;
  readonly experts: ConvExperts;
  private readonly base: StemAndHead;

  /** Draws the weights. */
  constructor(readonly args: MnistMoECnnArgs) {
    const seed = args.seed ?? 0;
    const channels = args.channels ?? 16;
    this.base = new StemAndHead(channels, seed);
    this.experts = new ConvExperts({ numExperts: args.router.numExperts, inputChannels: channels, width: args.width ?? 16, stride: 2, seed: seed + 2 });
    this.moe = new MixtureOfExperts({ router: args.router, experts: this.experts, layout: 'grouped', capacity: { train: args.capacityFactor ?? 1.25, eval: args.evalCapacityFactor ?? 'auto' } });
    this.gate = new ConvGate({ inputChannels: channels, filters: args.gateFilters ?? 16, stride: 2, seed: seed + 3 });
  }

  /** The router. */
  get router(): Router {
    return this.args.router;
  }

  forward(images: tf.Tensor4D, training: boolean): { logits: tf.Tensor2D; aux: tf.Scalar; metrics: RoutingMetrics } {
    const h = this.base.features(images); // [B, 14, 14, C]
    const out: MoEOutput = this.moe.apply(h, { training, gateInput: this.gate.apply(h) }); // output [B, 7, 7, C]
    return { logits: this.base.logits(h, out.output), aux: out.auxLosses.total, metrics: out.metrics };
  }

  /**
   * Each image's first-choice expert `[B, 1]` (for the expert × class matrix); for a router that plans
   * itself (expert choice, Soft MoE), the expert with the largest routing weight.
   */
  assign(images: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const h = this.base.features(images as tf.Tensor4D);
      const routing = this.router.route(this.gate.apply(h), { training: false });
      if (isPlannedOutput(routing)) return tf.expandDims(tf.argMax(routing.probs, 1), 1);
      return tf.slice(routing.expertIndex, [0, 0], [-1, 1]);
    });
  }

  get variables(): tf.Variable[] {
    return [...this.base.variables, ...this.moe.trainableVariables, ...this.gate.trainableVariables];
  }

  parameterCount(): number {
    return size(this.variables);
  }

  /** Everything but the `E − k` experts an image does not visit. */
  activeParameterCount(): number {
    const expertParameters = size(this.experts.trainableVariables);
    const E = this.router.numExperts;
    return this.parameterCount() - expertParameters + (expertParameters / E) * this.router.k;
  }

  dispose(): void {
    this.base.dispose();
    this.moe.dispose();
    this.gate.dispose();
  }
}

/** Arguments of {@link MnistDenseCnn}. */
export interface MnistDenseCnnArgs extends MnistCnnSizes {
  /** ResBlocks every image visits (the MoE's `k`), outputs averaged. Default 1. */
  paths?: number;
}

/** The dense baseline: the MoE-CNN's skeleton with `paths` ResBlocks every image visits instead of the routed experts. */
export class MnistDenseCnn implements MnistClassifier {
  readonly blocks: ConvExperts;
  private readonly base: StemAndHead;
  private readonly paths: number;

  /** Draws the weights. */
  constructor(args: MnistDenseCnnArgs = {}) {
    const seed = args.seed ?? 0;
    const channels = args.channels ?? 16;
    this.paths = args.paths ?? 1;
    this.base = new StemAndHead(channels, seed);
    // the same ResBlock as one expert; `paths` of them run on every image as one grouped call
    this.blocks = new ConvExperts({ numExperts: this.paths, inputChannels: channels, width: args.width ?? 16, stride: 2, seed: seed + 2 });
  }

  forward(images: tf.Tensor4D, training: boolean): { logits: tf.Tensor2D; aux: tf.Scalar } {
    const h = this.base.features(images); // [B, 14, 14, C]
    const B = h.shape[0];
    const rows = this.paths === 1 ? h : tf.concat(Array.from({ length: this.paths }, () => h)); // [paths·B, 14, 14, C]
    const out = this.blocks.applyGrouped(rows, Array.from({ length: this.paths }, () => B), { training }); // [paths·B, 7, 7, C]
    const stage = this.paths === 1 ? out : tf.mean(tf.reshape(out, [this.paths, B, 7, 7, -1]), 0);
    return { logits: this.base.logits(h, stage), aux: tf.scalar(0) };
  }

  get variables(): tf.Variable[] {
    return [...this.base.variables, ...this.blocks.trainableVariables];
  }

  parameterCount(): number {
    return size(this.variables);
  }

  activeParameterCount(): number {
    return this.parameterCount();
  }

  dispose(): void {
    this.base.dispose();
    this.blocks.dispose();
  }
}
