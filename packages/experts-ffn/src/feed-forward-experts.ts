import * as tf from '@tensorflow/tfjs-core';
import { checkExpertSelection, checkInteger, checkOneOf, copyExpertSlices, definedConfig, groupedMatMul, MoEArgumentError, rejectUnknownOptions, SeedStream, type ExpertApplyOptions, type ExpertBank } from '@moekit/core';
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
  /** Input width `D` (≥ 1). */
  inputDim: number;
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

/** A {@link FeedForwardExperts} bank's arguments with every default filled in. */
export type FeedForwardExpertsConfig = Required<Omit<FeedForwardExpertsArgs, 'seed'>> & Pick<FeedForwardExpertsArgs, 'seed'>;
const KNOWN = ['numExperts', 'inputDim', 'hiddenDim', 'outputDim', 'activation', 'gated', 'useBias', 'kernelInitializer', 'seed'];

function resolve(args: FeedForwardExpertsArgs): FeedForwardExpertsConfig {
  const where = 'FeedForwardExperts';
  rejectUnknownOptions(where, args, KNOWN);
  const r: FeedForwardExpertsConfig = {
    numExperts: args.numExperts,
    inputDim: args.inputDim,
    hiddenDim: args.hiddenDim,
    outputDim: args.outputDim ?? args.inputDim,
    activation: args.activation ?? 'relu',
    gated: args.gated ?? 'none',
    useBias: args.useBias ?? true,
    kernelInitializer: args.kernelInitializer ?? 'glorotUniform',
    seed: args.seed,
  };
  for (const name of ['numExperts', 'inputDim', 'hiddenDim', 'outputDim'] as const) checkInteger(where, name, r[name], 1);
  checkOneOf(where, 'activation', r.activation, ffnActivations);
  checkOneOf(where, 'gated', r.gated, ['none', 'swiglu', 'geglu']);
  checkOneOf(where, 'kernelInitializer', r.kernelInitializer, kernelInitializerNames);
  return r;
}

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

/**
 * `E` feed-forward experts with batched weights `[E, D, H]` and `[E, H, D']`: padded buffers
 * `[E, C, D]` go through one batched matMul per projection; grouped rows (no padding) through one
 * matMul per expert. ReLU, GELU or Swish; SwiGLU and GEGLU gated variants; optional biases;
 * tfjs-layers initialisers with one expert's fans.
 *
 * @example
 * ```ts
 * const experts = new FeedForwardExperts({ numExperts: 8, inputDim: 512, hiddenDim: 2048, gated: 'swiglu' });
 * const moe = new MixtureOfExperts({ router, experts });
 * ```
 */
export class FeedForwardExperts extends tf.serialization.Serializable implements ExpertBank {
  /** Name under which the class is registered for (de)serialisation. */
  static readonly className = 'FeedForwardExperts';
  /** Experts `E`. */
  readonly numExperts: number;
  /** The validated arguments, defaults filled in. */
  readonly config: Readonly<FeedForwardExpertsConfig>;
  /** The weights. */
  readonly weights: FeedForwardWeights;

  /** Validates the arguments (unknown options rejected by name) and draws the weights. */
  constructor(args: FeedForwardExpertsArgs) {
    super();
    this.config = resolve(args);
    const { numExperts: E, inputDim: D, hiddenDim: H, outputDim: Dout, gated, useBias, kernelInitializer } = this.config;
    this.numExperts = E;
    const seeds = new SeedStream(this.config.seed);
    const kernel = (fanIn: number, fanOut: number) =>
      tf.tidy(() => tf.variable(tf.stack(Array.from({ length: E }, () => drawKernel(kernelInitializer, [fanIn, fanOut], seeds.next()))), true));
    const bias = (width: number) => tf.tidy(() => tf.variable(tf.zeros([E, 1, width]), true));
    this.weights = {
      w1: kernel(D, H),
      ...(useBias ? { b1: bias(H) } : {}),
      ...(gated !== 'none' ? { v: kernel(D, H), ...(useBias ? { bv: bias(H) } : {}) } : {}),
      w2: kernel(H, Dout),
      ...(useBias ? { b2: bias(Dout) } : {}),
    };
  }

  /** Every weight, in the order w1, b1, v, bv, w2, b2 (those present). */
  get trainableVariables(): tf.Variable[] {
    const { w1, b1, v, bv, w2, b2 } = this.weights;
    return [w1, b1, v, bv, w2, b2].filter((x): x is tf.Variable => x !== undefined);
  }

  /** `[D]` → `[D']`. */
  outputFeatureShape(inputFeatureShape: number[]): number[] {
    return [...inputFeatureShape.slice(0, -1), this.config.outputDim];
  }

  /** Parameters of one expert. */
  get parametersPerExpert(): number {
    return this.trainableVariables.reduce((n, v) => n + v.size, 0) / this.numExperts;
  }

  /**
   * The FFN, given how to apply one projection (`w1` with `b1`, `v` with `bv`, `w2` with `b2`): a batched
   * matMul over padded buffers, or {@link groupedMatMul} over grouped rows.
   */
  private ffn(x: tf.Tensor, project: (input: tf.Tensor, kernel: tf.Tensor, bias: tf.Tensor | undefined) => tf.Tensor): tf.Tensor {
    const { gated, activation } = this.config;
    const { w1, b1, v, bv, w2, b2 } = this.weights;
    let hidden = project(x, w1, b1); // [..., H]
    if (gated === 'none') hidden = activate(hidden, activation);
    else hidden = tf.mul(activate(hidden, gated === 'swiglu' ? 'swish' : 'gelu'), project(x, v!, bv)); // GLU: act(xW1) ⊙ xV
    return project(hidden, w2, b2); // [..., D']
  }

  private checkWidth(where: string, t: tf.Tensor): void {
    if (t.shape[t.rank - 1] !== this.config.inputDim) {
      throw new MoEArgumentError(where, where.endsWith('applyGrouped') ? 'rows' : 'dispatched', `last dim ${this.config.inputDim} (inputDim)`, `shape [${t.shape.join(', ')}]`);
    }
  }

  /** Padded buffers `[E, C, D]` → `[E, C, D']`, one batched matMul per projection. */
  apply(dispatched: tf.Tensor, _options?: ExpertApplyOptions): tf.Tensor {
    if (dispatched.rank !== 3 || dispatched.shape[0] !== this.numExperts) {
      throw new MoEArgumentError('FeedForwardExperts.apply', 'dispatched', `shape [${this.numExperts}, C, ${this.config.inputDim}]`, `shape [${dispatched.shape.join(', ')}]`);
    }
    this.checkWidth('FeedForwardExperts.apply', dispatched);
    return tf.tidy(() => this.ffn(dispatched, (input, kernel, bias) => {
      const y = tf.matMul(input as tf.Tensor3D, kernel as tf.Tensor3D); // [E, C, out]
      return bias === undefined ? y : tf.add(y, bias);
    }));
  }

  /** Grouped rows `[N, D]`, expert `e` owning the next `groupSizes[e]` → `[N, D']`, one {@link groupedMatMul} per projection. */
  applyGrouped(rows: tf.Tensor, groupSizes: number[], _options?: ExpertApplyOptions): tf.Tensor {
    const total = groupSizes.reduce((a, b) => a + b, 0);
    if (rows.rank !== 2 || rows.shape[0] !== total || groupSizes.length !== this.numExperts) {
      throw new MoEArgumentError('FeedForwardExperts.applyGrouped', 'rows', `shape [${total}, ${this.config.inputDim}] with ${this.numExperts} group sizes`, `shape [${rows.shape.join(', ')}] with ${groupSizes.length}`);
    }
    this.checkWidth('FeedForwardExperts.applyGrouped', rows);
    return tf.tidy(() => this.ffn(rows, (input, kernel, bias) => groupedMatMul(input, kernel, groupSizes, bias))); // [N, D']
  }

  /**
   * A new bank of the experts `keep` (expert `keep[i]` becomes expert `i`): every weight's kept slices
   * along the expert axis copied exactly, every other option unchanged; this bank is left untouched.
   */
  selectExperts(keep: readonly number[]): FeedForwardExperts {
    checkExpertSelection('FeedForwardExperts.selectExperts', keep, this.numExperts);
    const bank = new FeedForwardExperts({ ...this.config, numExperts: keep.length });
    for (const [name, weight] of Object.entries(this.weights) as [keyof FeedForwardWeights, tf.Variable][]) {
      copyExpertSlices(bank.weights[name]!, weight, keep, 0);
    }
    return bank;
  }

  /** The constructor arguments. */
  override getConfig(): tf.serialization.ConfigDict {
    return definedConfig(this.config);
  }

  /** Rebuilds a bank (with fresh weights) from {@link FeedForwardExperts.getConfig}'s output. */
  static override fromConfig<T extends tf.serialization.Serializable>(cls: tf.serialization.SerializableConstructor<T>, config: tf.serialization.ConfigDict): T {
    return new cls(config);
  }

  /** Releases the weights. */
  dispose(): void {
    tf.dispose(this.trainableVariables);
  }
}
