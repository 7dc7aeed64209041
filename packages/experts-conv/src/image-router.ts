import * as tf from '@tensorflow/tfjs-core';
import { checkInteger, checkOneOf, checkRank, createGateKernel, MoEArgumentError, oneHotFloat, rejectUnknownOptions, withoutGradient } from '@moekit/core';

/** How the router's scores get a gradient through the hard one-hot choice. */
export type SelectionEstimator = 'straightThrough' | 'gate';

/** A gate-input path for images: `[B, H, W, C]` → `[B, Dg]`, with its own variables (e.g. {@link GapGate}, {@link ConvGate}). */
export interface ImageGateInput {
  /** `[B, H, W, C]` → `[B, Dg]`. */
  apply(images: tf.Tensor): tf.Tensor2D;
  /** Its trainable variables. */
  readonly trainableVariables: tf.Variable[];
  /** Releases its variables. */
  dispose(): void;
}

/** Configuration of an {@link ImageRouter}. */
export interface ImageRouterArgs {
  /** Experts `E`: channel groups of every {@link MoEConv2D} it drives. */
  numExperts: number;
  /** The network from images to the router's features, e.g. a `ConvGate` (AdvMoE uses a small ResNet). */
  gate: ImageGateInput;
  /** Width `Dg` of the gate's features. */
  gateDim: number;
  /** `'straightThrough'` (AdvMoE: the one-hot's gradient passes to the scores unchanged) or `'gate'` (the chosen group is scaled by its softmax probability). Default `'straightThrough'`. */
  estimator?: SelectionEstimator;
  /** Seed of the dense layer's kernel. */
  seed?: number;
}

/** One image-level routing decision, shared by every {@link MoEConv2D} of a model. */
export interface ChannelGroupSelection {
  /** `[B, E]` router scores (logits). */
  scores: tf.Tensor2D;
  /** `[B]` int32 chosen expert (channel group) of each image. */
  expertIndex: tf.Tensor1D;
  /** `[B, E]` selection weights: the one-hot choice (straight-through) or one-hot × softmax (gate). */
  weights: tf.Tensor2D;
}

/**
 * The image-level router of AdvMoE (Zhang et al. 2023, "Robust Mixture-of-Experts Training for
 * Convolutional Neural Networks", arXiv:2308.10110), after the MoE-CNN it builds on: one network scores
 * the `E` experts per image, `s = W·f(x) + b` `[B, E]`, and its top-1 choice selects the same channel
 * group in every {@link MoEConv2D} of the model. The hard choice `m = onehot(argmax s)` has no
 * gradient, so training uses the straight-through estimator `∂L/∂s = ∂L/∂m` (AdvMoE's `GetMask`), or
 * with `estimator: 'gate'` weights the group by `softmax(s)` at the choice.
 *
 * @example
 * ```ts
 * const router = new ImageRouter({ numExperts: 4, gate: new ConvGate({ inputChannels: 1, filters: 16 }), gateDim: 16 });
 * const selection = router.route(images);
 * const h = conv1.apply(images, selection); // [B, H, W, G], the chosen group of each image
 * ```
 */
export class ImageRouter {
  /** Experts `E`. */
  readonly numExperts: number;
  /** The gate-input network. */
  readonly gate: ImageGateInput;
  /** Dense kernel `[Dg, E]`. */
  readonly kernel: tf.Variable;
  /** Dense bias `[E]`. */
  readonly bias: tf.Variable;
  /** The estimator. */
  readonly estimator: SelectionEstimator;

  /** Validates the arguments (unknown options rejected by name) and draws the dense layer. */
  constructor(args: ImageRouterArgs) {
    const where = 'ImageRouter';
    rejectUnknownOptions(where, args, ['numExperts', 'gate', 'gateDim', 'estimator', 'seed']);
    checkInteger(where, 'numExperts', args.numExperts, 2);
    checkInteger(where, 'gateDim', args.gateDim, 1);
    if (args.gate === undefined || typeof args.gate.apply !== 'function') throw new MoEArgumentError(where, 'gate', 'an image gate input (apply, trainableVariables)', String(args.gate));
    this.estimator = args.estimator ?? 'straightThrough';
    checkOneOf(where, 'estimator', this.estimator, ['straightThrough', 'gate']);
    this.numExperts = args.numExperts;
    this.gate = args.gate;
    this.kernel = createGateKernel(args.gateDim, args.numExperts, 'glorotUniform', args.seed);
    this.bias = tf.tidy(() => tf.variable(tf.zeros([args.numExperts]), true));
  }

  /** The gate network's variables, the kernel and the bias. */
  get trainableVariables(): tf.Variable[] {
    return [...this.gate.trainableVariables, this.kernel, this.bias];
  }

  /** Scores `images` `[B, H, W, C]` and chooses one expert per image. The caller owns the returned tensors. */
  route(images: tf.Tensor): ChannelGroupSelection {
    const where = 'ImageRouter.route';
    checkRank(where, 'images', images, 4);
    return tf.tidy(() => {
      const features = this.gate.apply(images); // [B, Dg]
      if (features.shape[1] !== this.kernel.shape[0]) {
        throw new MoEArgumentError(where, 'gate output', `width ${this.kernel.shape[0]} (gateDim)`, `shape [${features.shape.join(', ')}]`);
      }
      const scores = tf.add(tf.matMul(features, this.kernel as tf.Tensor2D), this.bias) as tf.Tensor2D; // [B, E]
      const expertIndex = withoutGradient(scores, (s) => tf.argMax(s, 1)) as tf.Tensor1D; // [B]
      const oneHot = oneHotFloat(expertIndex, this.numExperts) as tf.Tensor2D; // [B, E], off the tape
      const weights = this.estimator === 'straightThrough'
        ? (tf.add(scores, withoutGradient(scores, (s) => tf.sub(oneHot, s))) as tf.Tensor2D) // value m, gradient to s: s + (m − s)|no grad
        : (tf.mul(oneHot, tf.softmax(scores)) as tf.Tensor2D);
      return { scores, expertIndex, weights };
    });
  }

  /** Releases the gate network and the dense layer. */
  dispose(): void {
    this.gate.dispose();
    tf.dispose([this.kernel, this.bias]);
  }
}

/** Releases a {@link ChannelGroupSelection}'s tensors. */
export function disposeSelection(selection: ChannelGroupSelection): void {
  tf.dispose([selection.scores, selection.expertIndex, selection.weights]);
}
