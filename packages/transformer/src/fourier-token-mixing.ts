import * as tf from '@tensorflow/tfjs-core';
import { checkRank, Component, type ArgsTable } from '@moekit/core';

/** Configuration of a {@link FourierTokenMixing}: none — the transform has no weights and takes its sizes from the input. */
export interface FourierTokenMixingArgs {}

/** The real DFT matrices of one size `N`: `C[j, k] = cos(2π·j·k/N)` and `S[j, k] = sin(2π·j·k/N)`, both `[N, N]`. */
interface DftPair {
  cos: tf.Tensor2D;
  sin: tf.Tensor2D;
}

/**
 * FNet's parameter-free Fourier token mixing (Lee-Thorp et al. 2022, "FNet: Mixing Tokens with Fourier
 * Transforms", §3.2, Eq. 3, https://arxiv.org/abs/2105.03824): `y = Re(F_seq(F_hidden(x)))`, a 1D DFT
 * along the hidden axis then one along the sequence axis, keeping the real part — the reference's
 * `FourierTransform` (google-research/google-research `sparse_mixers/layers.py` at 4c42994, the same as
 * `f_net/layers.py`), computed there too as DFT-matrix products on TPU.
 *
 * With `F_N = C_N − i·S_N` (`C_N[j, k] = cos(2πjk/N)`, `S_N[j, k] = sin(2πjk/N)`), per sample
 * `Re(F_S · X · F_D) = C_S·X·C_D − S_S·X·S_D` — four real matrix products; the `[N, N]` cos/sin
 * matrices are built once per size and kept until {@link FourierTokenMixing.dispose}.
 *
 * @example
 * ```ts
 * const mixing = new FourierTokenMixing({});
 * const y = mixing.apply(x); // x [B, S, D] → y [B, S, D]
 * ```
 */
export class FourierTokenMixing extends Component<FourierTokenMixingArgs, FourierTokenMixingArgs> {
  /** Name under which the class is registered for (de)serialisation. */
  static readonly className = 'FourierTokenMixing';
  /** The arguments (none). */
  static readonly argsTable: ArgsTable<FourierTokenMixingArgs> = {};
  private readonly dft = new Map<number, DftPair>();

  /** Validates the (empty) arguments. */
  constructor(args: FourierTokenMixingArgs = {}) {
    super(args);
  }

  /** The cos/sin DFT matrices `[N, N]` of size `N`, built on first use and cached. */
  private matrices(n: number): DftPair {
    let pair = this.dft.get(n);
    if (pair === undefined) {
      // j·k mod N keeps the angle small, so float32 cos/sin stay exact where they should be 0 or ±1
      const cos = new Float32Array(n * n);
      const sin = new Float32Array(n * n);
      for (let j = 0; j < n; j++) {
        for (let k = 0; k < n; k++) {
          const angle = (2 * Math.PI * ((j * k) % n)) / n;
          cos[j * n + k] = Math.cos(angle);
          sin[j * n + k] = Math.sin(angle);
        }
      }
      pair = { cos: tf.keep(tf.tensor2d(cos, [n, n])), sin: tf.keep(tf.tensor2d(sin, [n, n])) };
      this.dft.set(n, pair);
    }
    return pair;
  }

  /** `x` `[B, S, D]` → `Re(F_S · x_b · F_D)` `[B, S, D]` for each sample `b` (FNet Eq. 3). */
  apply(x: tf.Tensor): tf.Tensor3D {
    const where = 'FourierTokenMixing.apply';
    this.assertLive(where);
    checkRank(where, 'x', x, 3);
    const [B, S, D] = x.shape as [number, number, number];
    const seq = this.matrices(S);
    const hidden = this.matrices(D);
    return tf.tidy(() => {
      const x2 = tf.reshape(x, [B * S, D]); // [B·S, D]
      const xc = tf.reshape(tf.matMul(x2, hidden.cos), [B, S, D]); // X·C_D   [B, S, D]
      const xs = tf.reshape(tf.matMul(x2, hidden.sin), [B, S, D]); // X·S_D   [B, S, D]
      // C_S·(X·C_D) − S_S·(X·S_D), the sequence matrices broadcast over the batch — FNet Eq. 3's real part
      const cs = tf.matMul(tf.broadcastTo(seq.cos, [B, S, S]), xc); // [B, S, D]
      const ss = tf.matMul(tf.broadcastTo(seq.sin, [B, S, S]), xs); // [B, S, D]
      return tf.sub(cs, ss) as tf.Tensor3D;
    });
  }

  /** Releases the cached DFT matrices. */
  override dispose(): void {
    if (this.isDisposed) return;
    super.dispose();
    for (const { cos, sin } of this.dft.values()) tf.dispose([cos, sin]);
    this.dft.clear();
  }
}
