import * as tf from '@tensorflow/tfjs-core';
import { arg, checkDtype, checkRank, Component, createGateKernel, describeValue, MoEArgumentError, oneHotFloat, withoutGradient, type ArgsTable } from '@moekit/core';

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
 * import { ConvGate, ImageRouter } from '@moekit/experts-conv';
 *
 * const router = new ImageRouter({ numExperts: 4, gate: new ConvGate({ inputChannels: 1, filters: 16 }), gateDim: 16 });
 * const selection = router.route(images);
 * const h = conv1.apply(images, selection); // [B, H, W, G], the chosen group of each image
 * ```
 */
export class ImageRouter extends Component<ImageRouterArgs, Required<Omit<ImageRouterArgs, 'seed'>> & Pick<ImageRouterArgs, 'seed'>> {
  /** Name under which the class is registered for (de)serialisation. */
  static readonly className = 'ImageRouter';
  /** The arguments: defaults and checks; the gate is a nested component (saved with the router when it is serialisable). */
  static readonly argsTable: ArgsTable<ImageRouterArgs> = {
    numExperts: arg.integer({ min: 2 }),
    gate: arg.component<ImageGateInput>({
      check: (where, name, gate) => {
        if (typeof gate.apply !== 'function') throw new MoEArgumentError(where, name, 'an image gate input (apply, trainableVariables)', describeValue(gate));
      },
    }),
    gateDim: arg.integer({ min: 1 }),
    estimator: arg.oneOf<SelectionEstimator>(['straightThrough', 'gate'], { default: 'straightThrough' }),
    seed: arg.number({ optional: true }),
  };

  /** Validates the arguments (unknown options rejected by name) and draws the dense layer: `kernel` `[Dg, E]`, `bias` `[E]`. */
  constructor(args: ImageRouterArgs) {
    super(args);
    const { gateDim, numExperts, seed } = this.config;
    this.addVariable('kernel', createGateKernel(gateDim, numExperts, 'glorotUniform', seed));
    this.addVariable('bias', tf.zeros([numExperts]));
  }

  /** Experts `E`. */
  get numExperts(): number {
    return this.config.numExperts;
  }

  /** The gate-input network. */
  get gate(): ImageGateInput {
    return this.config.gate;
  }

  /** The estimator. */
  get estimator(): SelectionEstimator {
    return this.config.estimator;
  }

  /** Dense kernel `[Dg, E]`. */
  get kernel(): tf.Variable {
    return this.variable('kernel', 'ImageRouter.kernel');
  }

  /** Dense bias `[E]`. */
  get bias(): tf.Variable {
    return this.variable('bias', 'ImageRouter.bias');
  }

  /** Scores `images` `[B, H, W, C]` and chooses one expert per image. The caller owns the returned tensors. */
  route(images: tf.Tensor): ChannelGroupSelection {
    const where = 'ImageRouter.route';
    const kernel = this.variable('kernel', where);
    const bias = this.variable('bias', where);
    checkRank(where, 'images', images, 4);
    checkDtype(where, 'images', images, 'float32'); // the gate may convolve (ConvGate), and tfjs's conv2d takes float32 only
    return tf.tidy(() => {
      const features = this.gate.apply(images); // [B, Dg]
      if (features.shape[1] !== kernel.shape[0]) {
        throw new MoEArgumentError(where, 'gate output', `width ${kernel.shape[0]} (gateDim)`, `shape [${features.shape.join(', ')}]`);
      }
      const scores = tf.add(tf.matMul(features, kernel as tf.Tensor2D), bias) as tf.Tensor2D; // [B, E]
      const expertIndex = withoutGradient(scores, (s) => tf.argMax(s, 1)) as tf.Tensor1D; // [B]
      const oneHot = oneHotFloat(expertIndex, this.numExperts) as tf.Tensor2D; // [B, E], off the tape
      const weights = this.estimator === 'straightThrough'
        ? (tf.add(scores, withoutGradient(scores, (s) => tf.sub(oneHot, s))) as tf.Tensor2D) // value m, gradient to s: s + (m − s)|no grad
        : (tf.mul(oneHot, tf.softmax(scores)) as tf.Tensor2D);
      return { scores, expertIndex, weights };
    });
  }
}

/** Releases a {@link ChannelGroupSelection}'s tensors. */
export function disposeSelection(selection: ChannelGroupSelection): void {
  tf.dispose([selection.scores, selection.expertIndex, selection.weights]);
}
