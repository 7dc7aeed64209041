import * as tf from '@tensorflow/tfjs-core';
import { arg, checkDtype, checkRank, Component, MoEArgumentError, perExpert, SeedStream, type ArgsTable, type ExpertApplyOptions, type ExpertBank } from '@moekit/core';
import { checkOddKernelSize } from './conv-gate.js';

/** Activation inside a conv expert. */
export type ConvActivation = 'relu' | 'elu' | 'swish';

/** Normalisation after each conv of an expert. */
export type ConvNorm = 'batch' | 'none';

/** Configuration of a {@link ConvExperts} bank. */
export interface ConvExpertsArgs {
  /** Experts `E` (≥ 1). */
  numExperts: number;
  /** Channels of the routed feature maps, `Cin`. */
  inputChannels: number;
  /** Channels inside each expert: narrow copies of a ResBlock use a fraction of the stage's width. */
  width: number;
  /** Channels each expert outputs, `Cout`. Default `inputChannels`. */
  outputChannels?: number;
  /** Convolutions per expert (a ResBlock has 2). Default 2. */
  layers?: number;
  /** Square kernel size of every convolution (odd). Default 3. */
  kernelSize?: number;
  /** Stride of the first convolution (and of the shortcut). Default 1. */
  stride?: number;
  /** Normalisation after each convolution. Default `'batch'`. */
  norm?: ConvNorm;
  /** Activation after each normalised convolution but the last, and on the block's output (after the residual sum). Default `'relu'`. */
  activation?: ConvActivation;
  /** Add the block's input (through a 1×1 projection when shapes differ), as a ResBlock does. Default `true`. */
  residual?: boolean;
  /** Batch-norm running-statistics momentum, `running = m · running + (1 − m) · batch`. Default 0.9 (PyTorch's 0.1). */
  momentum?: number;
  /** Batch-norm epsilon. Default 1e-5. */
  epsilon?: number;
  /** Seed of the He-normal kernel initialisers. */
  seed?: number;
}

/** A {@link ConvExperts} bank's arguments with every default filled in. */
export interface ConvExpertsConfig extends Required<Omit<ConvExpertsArgs, 'seed'>>, Pick<ConvExpertsArgs, 'seed'> {}

/** One convolution of every expert: kernel `[E, k, k, in, out]` and its batch norm `[E, out]`. */
export interface ConvExpertLayer {
  /** `[E, k, k, in, out]`. */
  kernel: tf.Variable;
  /** Batch-norm scale `[E, out]` (with `norm: 'batch'`). */
  gamma?: tf.Variable;
  /** Batch-norm shift `[E, out]`. */
  beta?: tf.Variable;
  /** Running mean `[E, out]` (not trainable). */
  movingMean?: tf.Variable;
  /** Running variance `[E, out]` (not trainable). */
  movingVariance?: tf.Variable;
}

function activate(x: tf.Tensor, activation: ConvActivation): tf.Tensor {
  if (activation === 'relu') return tf.relu(x);
  if (activation === 'elu') return tf.elu(x);
  return tf.mul(x, tf.sigmoid(x)); // swish
}

/** He-normal (`std = √(2 / fan_in)`, He et al. 2015), the ResNet initialiser, for `E` kernels `[E, k, k, cin, cout]`. */
function heNormalKernels(E: number, k: number, cin: number, cout: number, seeds: SeedStream): tf.Tensor {
  return tf.tidy(() => tf.stack(Array.from({ length: E }, () => tf.randomNormal([k, k, cin, cout], 0, Math.sqrt(2 / (k * k * cin)), 'float32', seeds.next()))));
}

/** The running statistics' names in a layer: not trainable. */
const RUNNING_STATISTICS = ['movingMean', 'movingVariance'] as const;

/**
 * A bank of `E` convolutional experts over routed images (Pavlitska et al. 2022, "Sparsely-gated
 * Mixture-of-Expert Layers for CNN Interpretability", arXiv:2204.10598: an MoE of narrow ResBlock copies
 * replacing a ResNet stage). Each expert is `layers` convolutions (`k × k`, same padding), each followed
 * by batch norm and, but for the last, the activation; with `residual` the block input (through a 1×1
 * projection when the channels or the stride change) is added before the output activation:
 * `y = act(BN(conv(… act(BN(conv(x))) …)) + shortcut(x))` (without `residual`, `act(BN(conv(…)))`).
 *
 * Tokens are images: `MixtureOfExperts` routes `[B, H, W, Cin]` feature maps per image (gate input from a
 * {@link GapGate} or {@link ConvGate}); grouped rows are `[N, H, W, Cin]`, padded buffers
 * `[E, C, H, W, Cin]`. Batch statistics are per expert over its own images, so training needs the grouped
 * layout (padded buffers would mix empty slots into them); evaluation uses the running statistics and
 * accepts both.
 *
 * @example
 * ```ts
 * import { MixtureOfExperts } from '@moekit/core';
 * import { ConvExperts } from '@moekit/experts-conv';
 * import { TopKRouter } from '@moekit/router-topk';
 *
 * const experts = new ConvExperts({ numExperts: 4, inputChannels: 16, width: 8 });
 * const moe = new MixtureOfExperts({ router: new TopKRouter({ numExperts: 4, k: 1, noise: 'shazeer' }), experts, layout: 'grouped' });
 * const y = moe.apply(features, { training: true, gateInput: gapGate.apply(features) }).output; // [B, H, W, 16]
 * ```
 */
export class ConvExperts extends Component<ConvExpertsArgs, ConvExpertsConfig> implements ExpertBank {
  /** tfjs serialisation name. */
  static readonly className = 'ConvExperts';
  /** The arguments: defaults and checks. */
  static readonly argsTable: ArgsTable<ConvExpertsArgs> = {
    numExperts: arg.integer({ min: 1 }),
    inputChannels: arg.integer({ min: 1 }),
    width: arg.integer({ min: 1 }),
    outputChannels: arg.integer({ min: 1, defaultFrom: (r) => r['inputChannels'] as number }),
    layers: arg.integer({ min: 1, default: 2 }),
    kernelSize: arg.value<number>({ default: 3, expected: 'an odd integer', check: checkOddKernelSize }),
    stride: arg.integer({ min: 1, default: 1 }),
    norm: arg.oneOf<ConvNorm>(['batch', 'none'], { default: 'batch' }),
    activation: arg.oneOf<ConvActivation>(['relu', 'elu', 'swish'], { default: 'relu' }),
    residual: arg.boolean({ default: true }),
    momentum: arg.value<number>({
      default: 0.9,
      check: (where, name, value) => {
        if (!(value >= 0 && value < 1)) throw new MoEArgumentError(where, name, 'a number in [0, 1)', String(value));
      },
    }),
    epsilon: arg.number({ above: 0, default: 1e-5 }),
    seed: arg.number({ optional: true }),
  };
  /** The layers' variable names (`conv0/kernel`, …), input first. */
  private readonly layerNames: string[];

  /** Validates the arguments (unknown options rejected by name) and draws the weights: per layer `conv<l>/kernel` (and its batch norm's `gamma`, `beta`, `movingMean`, `movingVariance`), then `projection`. */
  constructor(args: ConvExpertsArgs) {
    super(args);
    const { numExperts: E, inputChannels, width, outputChannels, layers, kernelSize, stride, norm, residual } = this.config;
    const seeds = new SeedStream(this.config.seed);
    this.layerNames = Array.from({ length: layers }, (_, l) => `conv${l}`);
    this.layerNames.forEach((layer, l) => {
      const cin = l === 0 ? inputChannels : width;
      const cout = l === layers - 1 ? outputChannels : width;
      this.addVariable(`${layer}/kernel`, heNormalKernels(E, kernelSize, cin, cout, seeds));
      if (norm === 'batch') {
        this.addVariable(`${layer}/gamma`, tf.ones([E, cout]));
        this.addVariable(`${layer}/beta`, tf.zeros([E, cout]));
        this.addVariable(`${layer}/movingMean`, tf.zeros([E, cout]), false);
        this.addVariable(`${layer}/movingVariance`, tf.ones([E, cout]), false);
      }
    });
    if (residual && (inputChannels !== outputChannels || stride !== 1)) this.addVariable('projection', heNormalKernels(E, 1, inputChannels, outputChannels, seeds));
  }

  /** Number of experts `E`. */
  get numExperts(): number {
    return this.config.numExperts;
  }

  /** The convolutions, input first. */
  get convLayers(): ConvExpertLayer[] {
    const where = 'ConvExperts.convLayers';
    return this.layerNames.map((layer) => {
      const variables: Partial<Record<keyof ConvExpertLayer, tf.Variable>> = { kernel: this.variable(`${layer}/kernel`, where) };
      if (this.config.norm === 'batch') for (const name of ['gamma', 'beta', ...RUNNING_STATISTICS] as const) variables[name] = this.variable(`${layer}/${name}`, where);
      return variables as ConvExpertLayer;
    });
  }

  /** The 1×1 shortcut projection `[E, 1, 1, Cin, Cout]`, when the residual changes shape. */
  get projection(): tf.Variable | undefined {
    return this.hasVariable('projection') ? this.variable('projection', 'ConvExperts.projection') : undefined;
  }

  /** Every variable, running statistics included (for saving): the trainable ones, then the running statistics. */
  get variables(): tf.Variable[] {
    return [...this.trainableVariables, ...this.nonTrainableVariables];
  }

  /** `[H, W, Cin]` → `[⌈H / stride⌉, ⌈W / stride⌉, Cout]`. */
  outputFeatureShape(inputFeatureShape: number[]): number[] {
    const [h, w] = inputFeatureShape as [number, number];
    const s = this.config.stride;
    return [Math.ceil(h / s), Math.ceil(w / s), this.config.outputChannels];
  }

  private checkRows(where: string, name: string, t: tf.Tensor, rank: number): void {
    checkRank(where, name, t, rank);
    checkDtype(where, name, t, 'float32'); // tfjs's conv2d takes float32 only
    if (t.shape[rank - 1] !== this.config.inputChannels) {
      throw new MoEArgumentError(where, name, `${this.config.inputChannels} channels (inputChannels) in the last axis`, `shape [${t.shape.join(', ')}]`);
    }
  }

  /** Grouped rows `[N, H, W, Cin]`, expert `e` owning the next `groupSizes[e]` images → `[N, H', W', Cout]`. */
  applyGrouped(rows: tf.Tensor, groupSizes: number[], options: ExpertApplyOptions): tf.Tensor {
    const where = 'ConvExperts.applyGrouped';
    this.assertLive(where);
    this.checkRows(where, 'rows', rows, 4);
    const total = groupSizes.reduce((a, b) => a + b, 0);
    if (groupSizes.length !== this.numExperts || rows.shape[0] !== total) {
      throw new MoEArgumentError(where, 'groupSizes', `${this.numExperts} sizes summing to ${rows.shape[0]} (rows' axis 0)`, `${groupSizes.length} sizes summing to ${total}`);
    }
    return tf.tidy(() => this.run(rows as tf.Tensor4D, groupSizes, options.training));
  }

  /** Padded buffers `[E, C, H, W, Cin]` → `[E, C, H', W', Cout]`; evaluation only when `norm` is `'batch'`. */
  apply(dispatched: tf.Tensor, options: ExpertApplyOptions): tf.Tensor {
    const where = 'ConvExperts.apply';
    this.assertLive(where);
    this.checkRows(where, 'dispatched', dispatched, 5);
    if (dispatched.shape[0] !== this.numExperts) {
      throw new MoEArgumentError(where, 'dispatched', `shape [${this.numExperts}, C, H, W, ${this.config.inputChannels}]`, `shape [${dispatched.shape.join(', ')}]`);
    }
    if (options.training && this.config.norm === 'batch') {
      throw new MoEArgumentError(where, 'layout', "'grouped' while training with batch norm (padded buffers would mix empty slots into each expert's batch statistics)", "'padded'");
    }
    const [E, C, ...features] = dispatched.shape as number[];
    return tf.tidy(() => {
      const y = this.run(tf.reshape(dispatched, [E! * C!, ...features]) as unknown as tf.Tensor4D, new Array<number>(E!).fill(C!), options.training);
      return tf.reshape(y, [E!, C!, ...y.shape.slice(1)] as number[]);
    });
  }

  /** The experts over consecutive groups of images; batch-norm running statistics updated in training. */
  private run(rows: tf.Tensor4D, groupSizes: number[], training: boolean): tf.Tensor {
    const { kernelSize, stride, norm, activation, momentum, epsilon, outputChannels } = this.config;
    const [, h, w] = rows.shape;
    const outShape = this.outputFeatureShape([h, w, this.config.inputChannels]);
    const convLayers = this.convLayers;
    const projection = this.projection;
    const kernels = convLayers.map((l) => perExpert(l.kernel) as tf.Tensor4D[]);
    const gammas = convLayers.map((l) => (l.gamma ? perExpert(l.gamma) : []));
    const betas = convLayers.map((l) => (l.beta ? perExpert(l.beta) : []));
    const projections = projection ? (perExpert(projection) as tf.Tensor4D[]) : [];
    // per layer, per expert: this call's batch mean and variance (for the running statistics)
    const batchStats: { mean: tf.Tensor[]; variance: tf.Tensor[] }[] = convLayers.map(() => ({ mean: [], variance: [] }));
    const groups = groupSizes.length === 1 ? [rows] : tf.split(rows, groupSizes, 0);
    const outputs = groups.map((group, e) => {
      if (groupSizes[e] === 0) return tf.zeros([0, ...outShape]);
      let x = group as tf.Tensor4D; // [n, H, W, C]
      convLayers.forEach((layer, l) => {
        x = tf.conv2d(x, kernels[l]![e]!, l === 0 ? stride : 1, 'same'); // [n, H', W', c]
        if (norm === 'batch') {
          let mean: tf.Tensor;
          let variance: tf.Tensor;
          if (training) {
            ({ mean, variance } = tf.moments(x, [0, 1, 2])); // over the expert's images and pixels (Ioffe & Szegedy 2015, Alg. 1)
            batchStats[l]!.mean.push(mean);
            batchStats[l]!.variance.push(variance);
          } else {
            mean = tf.squeeze(tf.slice(layer.movingMean!, [e, 0], [1, -1]), [0]);
            variance = tf.squeeze(tf.slice(layer.movingVariance!, [e, 0], [1, -1]), [0]);
          }
          x = tf.batchNorm(x, mean as tf.Tensor1D, variance as tf.Tensor1D, betas[l]![e]! as tf.Tensor1D, gammas[l]![e]! as tf.Tensor1D, epsilon) as tf.Tensor4D;
        }
        if (l < convLayers.length - 1) x = activate(x, activation) as tf.Tensor4D;
      });
      if (this.config.residual) {
        const shortcut = projection ? tf.conv2d(group as tf.Tensor4D, projections[e]!, stride, 'same') : group;
        x = tf.add(x, shortcut);
      }
      return activate(x, activation); // the block's output activation, after the residual sum
    });
    if (training && norm === 'batch') this.updateRunningStatistics(convLayers, batchStats, groupSizes, momentum);
    const y = outputs.length === 1 ? outputs[0]! : tf.concat(outputs, 0);
    return tf.reshape(y, [rows.shape[0], ...outShape.slice(0, 2), outputChannels]);
  }

  /** `running = m · running + (1 − m) · batch` for the experts that had images; the others keep theirs. */
  private updateRunningStatistics(convLayers: ConvExpertLayer[], batchStats: { mean: tf.Tensor[]; variance: tf.Tensor[] }[], groupSizes: number[], momentum: number): void {
    const used = groupSizes.map((n) => n > 0);
    convLayers.forEach((layer, l) => {
      const stats = batchStats[l]!;
      for (const [name, list] of [['movingMean', stats.mean], ['movingVariance', stats.variance]] as const) {
        const running = layer[name]!;
        const updated = tf.tidy(() => {
          let i = 0;
          const rows = used.map((u, e) => (u ? list[i++]! : tf.squeeze(tf.slice(running, [e, 0], [1, -1]), [0])));
          const batch = tf.stack(rows); // [E, c]
          return tf.add(tf.mul(running, momentum), tf.mul(batch, 1 - momentum));
        });
        running.assign(updated);
        updated.dispose();
      }
    });
  }
}
