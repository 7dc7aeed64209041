import * as tf from '@tensorflow/tfjs-core';
import { arg, checkGateInput, Component, createGateKernel, gateInitializers, type ArgsTable, type Gate, type GateInitializer, type GateOutput } from '@moekit/core';

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
export interface SoftMoEGateConfig extends Required<Omit<SoftMoEGateArgs, 'inputDim' | 'seed'>>, Pick<SoftMoEGateArgs, 'inputDim' | 'seed'> {}

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
 * import { SoftMoEGate } from '@moekit/router-balanced';
 *
 * const gate = new SoftMoEGate({ numOutputs: 8 * 2, seed: 1 }); // E = 8 experts, S = 2 slots each
 * ```
 */
export class SoftMoEGate extends Component<SoftMoEGateArgs, SoftMoEGateConfig> implements Gate {
  /** Name under which the class is registered for (de)serialisation. */
  static readonly className = 'SoftMoEGate';
  /** The arguments: defaults and checks. */
  static readonly argsTable: ArgsTable<SoftMoEGateArgs> = {
    numOutputs: arg.integer({ min: 1 }),
    inputDim: arg.integer({ min: 1, optional: true }),
    normalize: arg.boolean({ default: true }),
    kernelInitializer: arg.oneOf(gateInitializers, { default: 'glorotUniform' }),
    seed: arg.number({ optional: true }),
  };

  /** Validates the arguments; builds now if `inputDim` is given. */
  constructor(args: SoftMoEGateArgs) {
    super(args);
    if (this.config.inputDim !== undefined) this.build(this.config.inputDim);
  }

  /** Score columns `N = E·S`. */
  get numOutputs(): number {
    return this.config.numOutputs;
  }

  /** Creates `Φ` `[Dg, E·S]` (and the scale, starting at 1, when normalising); a second call is a no-op. */
  build(inputDim: number): void {
    this.assertLive('SoftMoEGate.build');
    if (this.hasVariable('kernel')) return;
    this.addVariable('kernel', createGateKernel(inputDim, this.numOutputs, this.config.kernelInitializer, this.seeds.next()));
    if (this.config.normalize) this.addVariable('scale', tf.scalar(1));
  }

  /** The learned scale of the normalised logits (`undefined` without `normalize` or before building). */
  get scale(): tf.Variable | undefined {
    return this.hasVariable('scale') ? this.variable('scale', 'SoftMoEGate.scale') : undefined;
  }

  /** `[T, Dg]` → `[T, E·S]` slot logits. */
  scores(gateInput: tf.Tensor2D): GateOutput {
    const where = 'SoftMoEGate.scores';
    this.assertLive(where);
    this.build(gateInput.shape[gateInput.rank - 1]!);
    const kernel = this.variable('kernel', where);
    checkGateInput(where, gateInput, kernel.shape[0]!);
    const scale = this.config.normalize ? this.variable('scale', where) : undefined;
    const logits = tf.tidy(() => {
      const x = tf.cast(gateInput, 'float32') as tf.Tensor2D; // [T, Dg]
      if (scale === undefined) return tf.matMul(x, kernel as tf.Tensor2D); // [T, E·S] X·Φ, §2.1
      const phi = tf.mul(l2Normalize(kernel, 0), scale) as tf.Tensor2D; // [Dg, E·S] scale · l2_normalize(Φ), unit columns
      return tf.matMul(l2Normalize(x, 1) as tf.Tensor2D, phi); // [T, E·S] l2_normalize(X) · Φ̃, Algorithm 1
    }) as tf.Tensor2D;
    return { logits };
  }
}
