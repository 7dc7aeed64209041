import * as tf from '@tensorflow/tfjs-core';
import {
  checkGateInput,
  checkInteger,
  checkOneOf,
  createGateKernel,
  definedConfig,
  describeValue,
  MoEArgumentError,
  rejectUnknownOptions,
  SeedStream,
  type Gate,
  type GateInitializer,
  type GateOutput,
} from '@moekit/core';

/** Configuration of a {@link SoftMoEGate}. */
export interface SoftMoEGateArgs {
  /** Score columns `N`: one per slot, `E·S` (experts times slots per expert). */
  numOutputs: number;
  /** Gate input width `Dg`; when omitted the weights are built from the first input. */
  inputDim?: number;
  /**
   * Score `l2_normalize(X) · (scale · l2_normalize(Φ))` with a trainable scalar `scale` (starting at
   * 1), as the paper's Algorithm 1 and §2.3 do, instead of `X · Φ`. Default `true`.
   */
  normalize?: boolean;
  /** Initialiser of `Φ` `[Dg, N]`. Default `'glorotUniform'`. */
  kernelInitializer?: GateInitializer;
  /** Seed of the initialiser. */
  seed?: number;
}

/** A {@link SoftMoEGate}'s arguments with every default filled in. */
export type SoftMoEGateConfig = Required<Omit<SoftMoEGateArgs, 'inputDim' | 'seed'>> & Pick<SoftMoEGateArgs, 'inputDim' | 'seed'>;

const KNOWN = ['numOutputs', 'inputDim', 'normalize', 'kernelInitializer', 'seed'];

/** ε inside `rsqrt(Σ x² + ε)` of the l2 normalisation (the authors' vmoe `normalize`). */
const NORMALIZE_EPSILON = 1e-6;

/** `x / ‖x‖₂` along `axis`, as `x · rsqrt(Σ x² + ε)`: finite (and differentiable) at `x = 0`. */
function l2Normalize(x: tf.Tensor, axis: number): tf.Tensor {
  return tf.mul(x, tf.rsqrt(tf.add(tf.sum(tf.square(x), axis, true), NORMALIZE_EPSILON)));
}

/**
 * The gate of Soft MoE (Puigcerver et al. 2023, "From Sparse to Soft Mixtures of Experts",
 * https://arxiv.org/abs/2308.00951): one learned vector per slot, `Φ` `[Dg, E·S]`, scoring
 * `logits = X·Φ` `[T, E·S]` (§2.1). With `normalize` (default) it scores
 * `l2_normalize(X) · (scale · l2_normalize(Φ))`, each token and each slot vector scaled to unit
 * norm and the logits to a learned range (§2.3 "Normalization", Algorithm 1): without it, the logits
 * of layer-normalised inputs grow with `Dg` and the softmaxes collapse to one-hots. The normalised
 * `X` is used for the scores only; the slots mix the raw tokens (as in the authors' vmoe
 * `SoftRouter`). Excluded experts are not honoured. Pair it with the {@link SoftMoE} algorithm
 * (`softMoERouter` does).
 *
 * @example
 * ```ts
 * const gate = new SoftMoEGate({ numOutputs: 8 * 2, seed: 1 }); // E = 8 experts, S = 2 slots each
 * ```
 */
export class SoftMoEGate extends tf.serialization.Serializable implements Gate {
  /** Name under which the class is registered for (de)serialisation. */
  static readonly className = 'SoftMoEGate';
  /** Score columns `N = E·S`. */
  readonly numOutputs: number;
  /** The validated arguments, defaults filled in. */
  readonly config: Readonly<SoftMoEGateConfig>;
  private kernel: tf.Variable | undefined;
  private scaleVariable: tf.Variable | undefined;
  private readonly seeds: SeedStream;

  /** Validates the arguments; builds now if `inputDim` is given. */
  constructor(args: SoftMoEGateArgs) {
    super();
    const where = 'SoftMoEGate';
    rejectUnknownOptions(where, args ?? {}, KNOWN);
    this.config = {
      numOutputs: args.numOutputs,
      inputDim: args.inputDim,
      normalize: args.normalize ?? true,
      kernelInitializer: args.kernelInitializer ?? 'glorotUniform',
      seed: args.seed,
    };
    checkInteger(where, 'numOutputs', this.config.numOutputs, 1);
    if (this.config.inputDim !== undefined) checkInteger(where, 'inputDim', this.config.inputDim, 1);
    if (typeof this.config.normalize !== 'boolean') throw new MoEArgumentError(where, 'normalize', 'true or false', describeValue(this.config.normalize));
    checkOneOf(where, 'kernelInitializer', this.config.kernelInitializer, ['zeros', 'glorotUniform', 'switch']);
    this.numOutputs = this.config.numOutputs;
    this.seeds = new SeedStream(this.config.seed);
    if (this.config.inputDim !== undefined) this.build(this.config.inputDim);
  }

  /** Creates `Φ` `[Dg, E·S]` (and the scale, starting at 1, when normalising); a second call is a no-op. */
  build(inputDim: number): void {
    if (this.kernel !== undefined) return;
    this.kernel = createGateKernel(inputDim, this.numOutputs, this.config.kernelInitializer, this.seeds.next());
    if (this.config.normalize) this.scaleVariable = tf.tidy(() => tf.variable(tf.scalar(1), true));
  }

  /** `[Φ]`, and the scale when normalising; empty before the gate is built. */
  get trainableVariables(): tf.Variable[] {
    if (this.kernel === undefined) return [];
    return this.scaleVariable === undefined ? [this.kernel] : [this.kernel, this.scaleVariable];
  }

  /** The learned scale of the normalised logits (`undefined` without `normalize` or before building). */
  get scale(): tf.Variable | undefined {
    return this.scaleVariable;
  }

  /** `[T, Dg]` → `[T, E·S]` slot logits. */
  scores(gateInput: tf.Tensor2D): GateOutput {
    this.build(gateInput.shape[gateInput.rank - 1]!);
    const kernel = this.kernel!;
    checkGateInput('SoftMoEGate.scores', gateInput, kernel.shape[0]!);
    const logits = tf.tidy(() => {
      const x = tf.cast(gateInput, 'float32') as tf.Tensor2D; // [T, Dg]
      if (this.scaleVariable === undefined) return tf.matMul(x, kernel as tf.Tensor2D); // [T, E·S] X·Φ, §2.1
      const phi = tf.mul(l2Normalize(kernel, 0), this.scaleVariable) as tf.Tensor2D; // [Dg, E·S] scale · l2_normalize(Φ), unit columns
      return tf.matMul(l2Normalize(x, 1) as tf.Tensor2D, phi); // [T, E·S] l2_normalize(X) · Φ̃, Algorithm 1
    }) as tf.Tensor2D;
    return { logits };
  }

  /** The constructor arguments, defaults filled in. */
  override getConfig(): tf.serialization.ConfigDict {
    return definedConfig(this.config);
  }

  /** Rebuilds a gate (fresh weights) from its config. */
  static override fromConfig<T extends tf.serialization.Serializable>(cls: tf.serialization.SerializableConstructor<T>, config: tf.serialization.ConfigDict): T {
    return new cls(config);
  }

  /** Releases `Φ` and the scale. */
  dispose(): void {
    this.kernel?.dispose();
    this.scaleVariable?.dispose();
    this.kernel = undefined;
    this.scaleVariable = undefined;
  }
}
