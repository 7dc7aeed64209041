import * as tf from '@tensorflow/tfjs-core';
import { arg, checkMinRank, Component, MoEArgumentError, type ArgsTable } from '@moekit/core';

/** Configuration of a {@link LayerNorm}. */
export interface LayerNormArgs {
  /** Width `D` of the normalised (last) axis (≥ 1). */
  dim: number;
  /** `ε` added to the variance before the square root. Default 1e-12 (BERT's and the Sparse Mixer reference's `LAYER_NORM_EPSILON`). */
  eps?: number;
}

/**
 * Layer normalisation (Ba et al. 2016, "Layer Normalization", Eq. 4, https://arxiv.org/abs/1607.06450):
 * `y = g ⊙ (x − μ) / sqrt(σ² + ε) + b` over the last axis, `μ` and `σ²` its mean and (biased) variance —
 * the post-sublayer norm of BERT-style encoders (Flax `nn.LayerNorm`). Gain `weight` `[D]` starts at
 * ones, `bias` `[D]` at zeros.
 *
 * @example
 * ```ts
 * const norm = new LayerNorm({ dim: 32 });
 * const y = norm.apply(x); // x [B, S, 32] → y [B, S, 32]
 * ```
 */
export class LayerNorm extends Component<LayerNormArgs, Required<LayerNormArgs>> {
  /** Name under which the class is registered for (de)serialisation. */
  static readonly className = 'LayerNorm';
  /** The arguments. */
  static readonly argsTable: ArgsTable<LayerNormArgs> = {
    dim: arg.integer({ min: 1 }),
    eps: arg.number({ above: 0, default: 1e-12 }),
  };

  /** Validates the arguments and creates the gain `weight` (ones) and `bias` (zeros), both `[D]`. */
  constructor(args: LayerNormArgs) {
    super(args);
    this.addVariable('weight', tf.ones([this.config.dim]));
    this.addVariable('bias', tf.zeros([this.config.dim]));
  }

  /** `x` `[..., D]` normalised over its last axis, scaled and shifted. */
  apply(x: tf.Tensor): tf.Tensor {
    const where = 'LayerNorm.apply';
    const weight = this.variable('weight', where);
    const bias = this.variable('bias', where);
    checkMinRank(where, 'x', x, 1);
    const width = x.shape[x.rank - 1];
    if (width !== this.config.dim) throw new MoEArgumentError(where, 'x', `a last axis of ${this.config.dim} (dim)`, `shape [${x.shape.join(', ')}]`);
    return tf.tidy(() => {
      const { mean, variance } = tf.moments(x, -1, true); // [..., 1] each
      const normed = tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, this.config.eps))); // [..., D]
      return tf.add(tf.mul(weight, normed), bias); // Ba et al. Eq. 4  [..., D]
    });
  }
}
