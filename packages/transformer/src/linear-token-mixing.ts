import * as tf from '@tensorflow/tfjs-core';
import { arg, checkRank, Component, MoEArgumentError, type ArgsTable } from '@moekit/core';

/** Configuration of a {@link LinearTokenMixing}. */
export interface LinearTokenMixingArgs {
  /** Sequence length `S` the `[S, S]` mixing matrix is built for (≥ 1). */
  seqLen: number;
  /** Model width `D` (≥ 1). */
  hiddenSize: number;
  /** Also mix the hidden axis with a learned `[D, D]` matrix, as the reference's `LinearTransform`. Default true. */
  mixHidden?: boolean;
  /** Standard deviation of the normal initialiser of both matrices. Default 0.02 (the reference's `default_kernel_init`). */
  initializerRange?: number;
  /** Seed of the initialiser. */
  seed?: number;
}

/** A {@link LinearTokenMixing}'s arguments with the defaults filled in. */
export interface LinearTokenMixingConfig extends Required<Omit<LinearTokenMixingArgs, 'seed'>>, Pick<LinearTokenMixingArgs, 'seed'> {}

/**
 * Learned linear token mixing — the mixing sublayer of Sparse Mixer (Lee-Thorp & Ainslie 2022, "Sparse
 * Mixers: Combining MoE and Mixing to build a more efficient BERT", §3, https://arxiv.org/abs/2205.12399)
 * and FNet's "Linear" baseline (Lee-Thorp et al. 2022, §4, https://arxiv.org/abs/2105.03824): per
 * sample `y = W_seq · X · W_hidden`, `W_seq` `[S, S]` mixing tokens and `W_hidden` `[D, D]` mixing
 * features — the reference's `LinearTransform`, `einsum('bij,jk,ni->bnk', x, hidden_kernel,
 * input_kernel)` (google-research/google-research `sparse_mixers/layers.py` at 4c42994). With
 * `mixHidden: false` only `W_seq` is applied (`y = W_seq · X`), the token-mixing half alone.
 *
 * Variables: `inputKernel` `[S, S]` (the reference's `input_kernel`) and, with `mixHidden`,
 * `hiddenKernel` `[D, D]`. The sequence length is fixed: shorter inputs must be padded to `S`.
 *
 * @example
 * ```ts
 * const mixing = new LinearTokenMixing({ seqLen: 16, hiddenSize: 32, seed: 1 });
 * const y = mixing.apply(x); // x [B, 16, 32] → y [B, 16, 32]
 * ```
 */
export class LinearTokenMixing extends Component<LinearTokenMixingArgs, LinearTokenMixingConfig> {
  /** Name under which the class is registered for (de)serialisation. */
  static readonly className = 'LinearTokenMixing';
  /** The arguments. */
  static readonly argsTable: ArgsTable<LinearTokenMixingArgs> = {
    seqLen: arg.integer({ min: 1 }),
    hiddenSize: arg.integer({ min: 1 }),
    mixHidden: arg.boolean({ default: true }),
    initializerRange: arg.number({ above: 0, default: 0.02 }),
    seed: arg.number({ optional: true }),
  };

  /** Validates the arguments and creates the mixing matrices (normal, std `initializerRange`). */
  constructor(args: LinearTokenMixingArgs) {
    super(args);
    const { seqLen: S, hiddenSize: D, initializerRange: std } = this.config;
    this.addVariable('inputKernel', tf.randomNormal([S, S], 0, std, 'float32', this.seeds.next()));
    if (this.config.mixHidden) this.addVariable('hiddenKernel', tf.randomNormal([D, D], 0, std, 'float32', this.seeds.next()));
  }

  /** `x` `[B, S, D]` → `W_seq · x_b · W_hidden` `[B, S, D]` for each sample `b`. */
  apply(x: tf.Tensor): tf.Tensor3D {
    const where = 'LinearTokenMixing.apply';
    const seqKernel = this.variable('inputKernel', where); // [S, S]
    const hiddenKernel = this.config.mixHidden ? this.variable('hiddenKernel', where) : undefined; // [D, D]
    checkRank(where, 'x', x, 3);
    const { seqLen, hiddenSize } = this.config;
    const [B, S, D] = x.shape as [number, number, number];
    if (S !== seqLen || D !== hiddenSize) {
      throw new MoEArgumentError(where, 'x', `shape [B, ${seqLen}, ${hiddenSize}] (seqLen, hiddenSize)`, `shape [${x.shape.join(', ')}]`);
    }
    return tf.tidy(() => {
      const mixedHidden = hiddenKernel === undefined ? x : tf.reshape(tf.matMul(tf.reshape(x, [B * S, D]), hiddenKernel as tf.Tensor2D), [B, S, D]); // X·W_hidden [B, S, D]
      return tf.matMul(tf.broadcastTo(seqKernel, [B, S, S]), mixedHidden) as tf.Tensor3D; // W_seq·X·W_hidden [B, S, D]
    });
  }
}
