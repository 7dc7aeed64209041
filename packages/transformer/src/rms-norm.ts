import * as tf from '@tensorflow/tfjs-core';
import { arg, checkMinRank, Component, MoEArgumentError, type ArgsTable } from '@moekit/core';

/** Configuration of an {@link RMSNorm}. */
export interface RMSNormArgs {
  /** Width `D` of the normalised (last) axis (≥ 1). */
  dim: number;
  /** `ε` added to the mean square before the square root. Default 1e-6 (HF `MixtralRMSNorm`'s; Mixtral's config gives 1e-5). */
  eps?: number;
}

/**
 * Root-mean-square layer normalisation (Zhang & Sennrich 2019, "Root Mean Square Layer
 * Normalization", Eq. 4, https://arxiv.org/abs/1910.07467): `y = g ⊙ x / sqrt(mean(x²) + ε)` over the
 * last axis, no centring, no bias — HF's `MixtralRMSNorm.forward`. The gain `g` `[D]` starts at ones
 * and is saved as `weight`.
 *
 * @example
 * ```ts
 * const norm = new RMSNorm({ dim: 32, eps: 1e-5 });
 * const y = norm.apply(x); // x [B, S, 32] → y [B, S, 32]
 * ```
 */
export class RMSNorm extends Component<RMSNormArgs, Required<RMSNormArgs>> {
  /** Name under which the class is registered for (de)serialisation. */
  static readonly className = 'RMSNorm';
  /** The arguments. */
  static readonly argsTable: ArgsTable<RMSNormArgs> = {
    dim: arg.integer({ min: 1 }),
    eps: arg.number({ above: 0, default: 1e-6 }),
  };

  /** Validates the arguments and creates the gain `weight` `[D]` (ones). */
  constructor(args: RMSNormArgs) {
    super(args);
    this.addVariable('weight', tf.ones([this.config.dim]));
  }

  /** The gain `g` `[D]`. */
  get weight(): tf.Variable {
    return this.variable('weight', 'RMSNorm.weight');
  }

  /** `x` `[..., D]` normalised over its last axis and scaled by the gain. */
  apply(x: tf.Tensor): tf.Tensor {
    const where = 'RMSNorm.apply';
    const weight = this.variable('weight', where);
    checkMinRank(where, 'x', x, 1);
    const width = x.shape[x.rank - 1];
    if (width !== this.config.dim) throw new MoEArgumentError(where, 'x', `a last axis of ${this.config.dim} (dim)`, `shape [${x.shape.join(', ')}]`);
    return tf.tidy(() => {
      const meanSquare = tf.mean(tf.square(x), -1, true); // [..., 1]
      return tf.mul(weight, tf.mul(x, tf.rsqrt(tf.add(meanSquare, this.config.eps)))); // [..., D]
    });
  }
}
