import * as tf from '@tensorflow/tfjs-core';
import { arg, checkRank, Component, MoEArgumentError, type ArgsTable } from '@moekit/core';

/** Configuration of a {@link RotaryEmbedding}. */
export interface RotaryEmbeddingArgs {
  /** Per-head width `d` the rotation acts on (even, ≥ 2). */
  headDim: number;
  /** Base `θ` of the frequencies. Default 10000 (RoFormer; Mixtral uses 1e6). */
  theta?: number;
}

/** The rotation of each position: what {@link RotaryEmbedding.cosSin} returns. */
export interface RotaryAngles {
  /** `cos` of the angles `[S, d]`. */
  cos: tf.Tensor2D;
  /** `sin` of the angles `[S, d]`. */
  sin: tf.Tensor2D;
}

/**
 * Rotary position embedding (Su et al. 2021, "RoFormer", Eq. 34, https://arxiv.org/abs/2104.09864),
 * in the half-split layout of HF's `MixtralRotaryEmbedding` + `apply_rotary_pos_emb`:
 * `inv_freq_i = θ^(−2i/d)` for `i < d/2`, the angle at position `m` is `m·inv_freq` repeated twice
 * (`cat(freqs, freqs)`), and `rope(x) = x·cos + rotate_half(x)·sin` with
 * `rotate_half([x₁, x₂]) = [−x₂, x₁]` (so dimension `i` pairs with `i + d/2`, not `2i` with `2i+1`
 * as in the paper — the HF checkpoints' convention). No variables.
 *
 * @example
 * ```ts
 * const rope = new RotaryEmbedding({ headDim: 8, theta: 1e6 });
 * const rotated = rope.apply(q); // q [B, H, S, 8], positions 0…S−1
 * ```
 */
export class RotaryEmbedding extends Component<RotaryEmbeddingArgs, Required<RotaryEmbeddingArgs>> {
  /** Name under which the class is registered for (de)serialisation. */
  static readonly className = 'RotaryEmbedding';
  /** The arguments. */
  static readonly argsTable: ArgsTable<RotaryEmbeddingArgs> = {
    headDim: arg.integer({ min: 2 }),
    theta: arg.number({ above: 0, default: 10000 }),
  };

  /** Validates the arguments (`headDim` even). */
  constructor(args: RotaryEmbeddingArgs) {
    super(args);
    if (this.config.headDim % 2 !== 0) throw new MoEArgumentError('RotaryEmbedding', 'headDim', 'an even integer', String(this.config.headDim));
  }

  /** `cos` and `sin` `[S, d]` of positions `offset … offset + S − 1` (HF `MixtralRotaryEmbedding.forward`). */
  cosSin(seqLen: number, offset = 0): RotaryAngles {
    this.assertLive('RotaryEmbedding.cosSin');
    const { headDim: d, theta } = this.config;
    return tf.tidy(() => {
      const exponents = tf.div(tf.range(0, d, 2, 'float32'), d); // [d/2]
      const invFreq = tf.div(1, tf.pow(tf.scalar(theta), exponents)); // [d/2]
      const positions = tf.range(offset, offset + seqLen, 1, 'float32'); // [S]
      const freqs = tf.mul(tf.expandDims(positions, 1), tf.expandDims(invFreq, 0)); // [S, d/2]
      const angles = tf.concat([freqs, freqs], 1); // [S, d]
      return { cos: tf.cos(angles) as tf.Tensor2D, sin: tf.sin(angles) as tf.Tensor2D };
    });
  }

  /** `x` `[B, H, S, d]` rotated by its positions `offset … offset + S − 1`. */
  apply(x: tf.Tensor, offset = 0): tf.Tensor4D {
    const where = 'RotaryEmbedding.apply';
    this.assertLive(where);
    checkRank(where, 'x', x, 4);
    const d = this.config.headDim;
    if (x.shape[3] !== d) throw new MoEArgumentError(where, 'x', `a last axis of ${d} (headDim)`, `shape [${x.shape.join(', ')}]`);
    return tf.tidy(() => {
      const { cos, sin } = this.cosSin(x.shape[2]!, offset); // [S, d]
      const [x1, x2] = tf.split(x, 2, 3) as [tf.Tensor, tf.Tensor]; // [B, H, S, d/2] each
      const rotated = tf.concat([tf.neg(x2), x1], 3); // rotate_half(x) [B, H, S, d]
      return tf.add(tf.mul(x, cos), tf.mul(rotated, sin)) as tf.Tensor4D;
    });
  }
}
