import * as tf from '@tensorflow/tfjs-core';
import { arg, checkExpertSelection, checkInteger, Component, copyExpertSlices, groupedMatMul, MoEArgumentError, type ArgsTable, type Capability, type ExpertApplyOptions, type ExpertBank } from '@moekit/core';
import { activate, ffnActivations, type FfnActivation } from './activations.js';
import { drawKernel, kernelInitializerNames, type KernelInitializerName } from './initializers.js';

/**
 * The expert's shape: `'none'` — `act(x·W1 + b1)·W2 + b2`; `'swiglu'` / `'geglu'` — the gated linear
 * units of Shazeer 2020 ("GLU Variants Improve Transformer", https://arxiv.org/abs/2002.05202):
 * `(Swish(x·W1) ⊙ x·V)·W2` and `(GELU(x·W1) ⊙ x·V)·W2` (activation fixed by the variant).
 */
export type GatedVariant = 'none' | 'swiglu' | 'geglu';

/** Configuration of a {@link FeedForwardExperts} bank. */
export interface FeedForwardExpertsArgs {
  /** Experts `E` (≥ 1). */
  numExperts: number;
  /** Input width `D` (≥ 1); when omitted the weights are created by {@link FeedForwardExperts.build} from the first input. */
  inputDim?: number;
  /** Hidden width `H` of each expert (≥ 1). */
  hiddenDim: number;
  /** Output width `D'`. Default `inputDim`. */
  outputDim?: number;
  /** Activation of the ungated FFN. Default `'relu'`. */
  activation?: FfnActivation;
  /** Gated variant. Default `'none'`. */
  gated?: GatedVariant;
  /** Add biases `b1`, `b2` (and the gate's). Default `true`, as `tf.layers.dense`. */
  useBias?: boolean;
  /** tfjs-layers initialiser of every kernel, with one expert's fans. Default `'glorotUniform'`. */
  kernelInitializer?: KernelInitializerName;
  /** Seed of the initialisers (each expert and kernel draws from its own seed). */
  seed?: number;
}

/** A {@link FeedForwardExperts} bank's arguments with every default filled in (`inputDim`, `outputDim` unset until built when `inputDim` is omitted). */
export interface FeedForwardExpertsConfig extends Required<Omit<FeedForwardExpertsArgs, 'seed' | 'inputDim' | 'outputDim'>>, Pick<FeedForwardExpertsArgs, 'seed' | 'inputDim' | 'outputDim'> {}

/** The bank's weights; `v`/`bv` only for gated variants, biases only with `useBias`. */
export interface FeedForwardWeights {
  /** `[E, D, H]` first projection. */
  w1: tf.Variable;
  /** `[E, 1, H]` first bias. */
  b1?: tf.Variable;
  /** `[E, D, H]` gate projection (GLU variants). */
  v?: tf.Variable;
  /** `[E, 1, H]` gate bias (GLU variants). */
  bv?: tf.Variable;
  /** `[E, H, D']` second projection. */
  w2: tf.Variable;
  /** `[E, 1, D']` second bias. */
  b2?: tf.Variable;
}

/** The weight names, in creation order (`v`/`bv` only for gated variants, biases only with `useBias`). */
const WEIGHT_NAMES = ['w1', 'b1', 'v', 'bv', 'w2', 'b2'] as const;

/**
 * `E` feed-forward experts with batched weights `[E, D, H]` and `[E, H, D']`: padded buffers
 * `[E, C, D]` go through one batched matMul per projection; grouped rows (no padding) through one
 * matMul per expert. ReLU, GELU or Swish; SwiGLU and GEGLU gated variants; optional biases;
 * tfjs-layers initialisers with one expert's fans. Without `inputDim` the weights are created from
 * the first input's width ({@link FeedForwardExperts.build}, called by `MixtureOfExperts`).
 *
 * @example
 * ```ts
 * import { MixtureOfExperts } from '@moekit/core';
 * import { FeedForwardExperts } from '@moekit/experts-ffn';
 *
 * const experts = new FeedForwardExperts({ numExperts: 8, hiddenDim: 2048, gated: 'swiglu' }); // D from the input
 * const moe = new MixtureOfExperts({ router, experts });
 * ```
 */
export class FeedForwardExperts extends Component<FeedForwardExpertsArgs, FeedForwardExpertsConfig> implements ExpertBank {
  /** Name under which the class is registered for (de)serialisation. */
  static readonly className = 'FeedForwardExperts';
  /** The arguments: defaults and checks. */
  static readonly argsTable: ArgsTable<FeedForwardExpertsArgs> = {
    numExperts: arg.integer({ min: 1 }),
    inputDim: arg.integer({ min: 1, optional: true }),
    hiddenDim: arg.integer({ min: 1 }),
    outputDim: arg.integer({ min: 1, optional: true, defaultFrom: (r) => r['inputDim'] as number | undefined }),
    activation: arg.oneOf(ffnActivations, { default: 'relu' }),
    gated: arg.oneOf<GatedVariant>(['none', 'swiglu', 'geglu'], { default: 'none' }),
    useBias: arg.boolean({ default: true }),
    kernelInitializer: arg.oneOf(kernelInitializerNames, { default: 'glorotUniform' }),
    seed: arg.number({ optional: true }),
  };
  /** Selects experts. */
  static readonly capabilities: readonly Capability[] = ['selectExperts'];

  /** Validates the arguments (unknown options rejected by name); draws the weights now if `inputDim` is given. */
  constructor(args: FeedForwardExpertsArgs) {
    super(args);
    if (this.config.inputDim !== undefined) this.build([this.config.inputDim]);
  }

  /** Experts `E`. */
  get numExperts(): number {
    return this.config.numExperts;
  }

  /** The per-token input shape `[D]` the weights were built for (`undefined` before). */
  get inputFeatureShape(): number[] | undefined {
    const w1 = this.variableShape('w1'); // [E, D, H]
    return w1 === undefined ? undefined : [w1[1]!];
  }

  /**
   * Draws the weights for per-token inputs `[D]`: `w1`, `b1`, `v`, `bv`, `w2`, `b2` (those the options
   * ask for), each expert's kernel from its own seed; a no-op once built.
   */
  build(inputFeatureShape: number[]): void {
    this.assertLive('FeedForwardExperts.build');
    if (this.hasVariable('w1')) return;
    const D = inputFeatureShape[inputFeatureShape.length - 1]!;
    checkInteger('FeedForwardExperts.build', 'inputFeatureShape', D, 1);
    const { numExperts: E, hiddenDim: H, outputDim, gated, useBias, kernelInitializer } = this.config;
    const Dout = outputDim ?? D;
    const kernel = (name: string, fanIn: number, fanOut: number) =>
      this.addVariable(name, tf.tidy(() => tf.stack(Array.from({ length: E }, () => drawKernel(kernelInitializer, [fanIn, fanOut], this.seeds.next()))))); // [E, in, out]
    const bias = (name: string, width: number) => this.addVariable(name, tf.zeros([E, 1, width])); // [E, 1, out]
    kernel('w1', D, H);
    if (useBias) bias('b1', H);
    if (gated !== 'none') {
      kernel('v', D, H);
      if (useBias) bias('bv', H);
    }
    kernel('w2', H, Dout);
    if (useBias) bias('b2', Dout);
  }

  /** The weights (an error naming the caller before {@link build} and after dispose). */
  get weights(): FeedForwardWeights {
    const where = 'FeedForwardExperts.weights';
    const weights: Partial<Record<keyof FeedForwardWeights, tf.Variable>> = {};
    for (const name of WEIGHT_NAMES) if (name === 'w1' || this.hasVariable(name)) weights[name] = this.variable(name, where);
    return weights as FeedForwardWeights;
  }

  /** Input width `D` (`inputDim`, or the built width). */
  private inputWidth(where: string): number {
    return this.config.inputDim ?? this.variable('w1', where).shape[1]!;
  }

  /** `[D]` → `[D']` (`D'` = `outputDim`, else `D`). */
  outputFeatureShape(inputFeatureShape: number[]): number[] {
    return [...inputFeatureShape.slice(0, -1), this.config.outputDim ?? inputFeatureShape[inputFeatureShape.length - 1]!];
  }

  /** Parameters of one expert (0 before the weights are built). */
  get parametersPerExpert(): number {
    return this.trainableVariables.reduce((n, v) => n + v.size, 0) / this.numExperts;
  }

  /**
   * The FFN, given how to apply one projection (`w1` with `b1`, `v` with `bv`, `w2` with `b2`): a batched
   * matMul over padded buffers, or {@link groupedMatMul} over grouped rows.
   */
  private ffn(x: tf.Tensor, project: (input: tf.Tensor, kernel: tf.Tensor, bias: tf.Tensor | undefined, activation?: 'relu') => tf.Tensor): tf.Tensor {
    const { gated, activation } = this.config;
    const { w1, b1, v, bv, w2, b2 } = this.weights;
    const fusedRelu = gated === 'none' && activation === 'relu'; // the projection applies relu itself (groupedMatMul fuses it)
    let hidden = project(x, w1, b1, fusedRelu ? 'relu' : undefined); // [..., H]
    if (gated === 'none') {
      if (!fusedRelu) hidden = activate(hidden, activation);
    } else hidden = tf.mul(activate(hidden, gated === 'swiglu' ? 'swish' : 'gelu'), project(x, v!, bv)); // GLU: act(xW1) ⊙ xV
    return project(hidden, w2, b2); // [..., D']
  }

  /** Builds from `t`'s last dim if needed, then checks it is the built width `D`. */
  private buildAndCheckWidth(where: string, name: string, t: tf.Tensor): void {
    this.assertLive(where);
    this.build([t.shape[t.rank - 1]!]);
    const D = this.inputWidth(where);
    if (t.shape[t.rank - 1] !== D) throw new MoEArgumentError(where, name, `last dim ${D} (inputDim)`, `shape [${t.shape.join(', ')}]`);
  }

  /**
   * Padded buffers `[E, C, D]` → `[E, C, D']`, one batched matMul per projection. The FFN acts on the
   * last axis, so whole samples `[E, C, S, D]` (`MoELayer`'s `routeOver: 'sample'`) go through it
   * position by position: `[E, C·S, D]` → `[E, C, S, D']`.
   */
  apply(dispatched: tf.Tensor, _options?: ExpertApplyOptions): tf.Tensor {
    const where = 'FeedForwardExperts.apply';
    if (dispatched.rank < 3 || dispatched.shape[0] !== this.numExperts) {
      throw new MoEArgumentError(where, 'dispatched', `shape [${this.numExperts}, C, ..., ${this.config.inputDim ?? 'D'}]`, `shape [${dispatched.shape.join(', ')}]`);
    }
    this.buildAndCheckWidth(where, 'dispatched', dispatched);
    const [E, C] = dispatched.shape as [number, number];
    const lead = dispatched.shape.slice(2, -1); // [...S] positions per row (none for [E, C, D])
    const D = dispatched.shape[dispatched.rank - 1]!;
    return tf.tidy(() => {
      const flat = tf.reshape(dispatched, [E, -1, D]) as tf.Tensor3D; // [E, C·S, D]
      const y = this.ffn(flat, (input, kernel, bias, fused) => {
        const product = tf.matMul(input as tf.Tensor3D, kernel as tf.Tensor3D); // [E, C·S, out]
        const out = bias === undefined ? product : tf.add(product, bias);
        return fused === 'relu' ? tf.relu(out) : out;
      }); // [E, C·S, D']
      return lead.length === 0 ? y : tf.reshape(y, [E, C, ...lead, y.shape[2]!]); // [E, C, ...S, D']
    });
  }

  /**
   * Grouped rows `[N, D]`, expert `e` owning the next `groupSizes[e]` → `[N, D']`, one {@link groupedMatMul}
   * per projection; whole samples `[N, S, D]` go through position by position, as in {@link apply}.
   */
  applyGrouped(rows: tf.Tensor, groupSizes: number[], _options?: ExpertApplyOptions): tf.Tensor {
    const where = 'FeedForwardExperts.applyGrouped';
    const total = groupSizes.reduce((a, b) => a + b, 0);
    if (rows.rank < 2 || rows.shape[0] !== total || groupSizes.length !== this.numExperts) {
      throw new MoEArgumentError(where, 'rows', `shape [${total}, ..., ${this.config.inputDim ?? 'D'}] with ${this.numExperts} group sizes`, `shape [${rows.shape.join(', ')}] with ${groupSizes.length}`);
    }
    this.buildAndCheckWidth(where, 'rows', rows);
    const lead = rows.shape.slice(1, -1); // [...S] positions per row (none for [N, D])
    const perRow = lead.reduce((a, b) => a * b, 1);
    const D = rows.shape[rows.rank - 1]!;
    return tf.tidy(() => {
      const flat = tf.reshape(rows, [total * perRow, D]); // [N·S, D]
      const sizes = groupSizes.map((g) => g * perRow); // each row's S positions stay with its expert
      const y = this.ffn(flat, (input, kernel, bias, fused) => groupedMatMul(input, kernel, sizes, bias, fused === undefined ? {} : { activation: fused })); // [N·S, D']
      return lead.length === 0 ? y : tf.reshape(y, [total, ...lead, y.shape[1]!]); // [N, ...S, D']
    });
  }

  /**
   * A new bank of the experts `keep` (expert `keep[i]` becomes expert `i`): every weight's kept slices
   * along the expert axis copied exactly, every other option unchanged; this bank is left untouched.
   */
  selectExperts(keep: readonly number[]): FeedForwardExperts {
    const where = 'FeedForwardExperts.selectExperts';
    const weights = this.weights;
    checkExpertSelection(where, keep, this.numExperts);
    const bank = new FeedForwardExperts({ ...this.config, numExperts: keep.length, inputDim: weights.w1.shape[1]! });
    const copies = bank.weights;
    for (const [name, weight] of Object.entries(weights) as [keyof FeedForwardWeights, tf.Variable][]) copyExpertSlices(copies[name]!, weight, keep, 0);
    return bank;
  }
}
