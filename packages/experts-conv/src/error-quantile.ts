import * as tf from '@tensorflow/tfjs-core';
import { checkFiniteNumber, MoEArgumentError, offTape } from '@moekit/core';

/**
 * The `q`-quantile of each row of `x` `[B, N]` → `[B]`, interpolating linearly between order statistics
 * as `torch.quantile` does (position `q·(N − 1)` in the sorted row). On the device: one `topk` per call.
 */
export function rowQuantile(x: tf.Tensor2D, q: number): tf.Tensor1D {
  const where = 'rowQuantile';
  checkFiniteNumber(where, 'q', q);
  if (q < 0 || q > 1) throw new MoEArgumentError(where, 'q', 'a number in [0, 1]', String(q));
  const n = x.shape[1];
  if (n === 0) throw new MoEArgumentError(where, 'x', 'rows of at least one value', `shape [${x.shape.join(', ')}]`);
  return tf.tidy(() => {
    const descending = tf.topk(x, n).values; // [B, N], largest first
    const position = q * (n - 1);
    const lo = Math.floor(position);
    const hi = Math.ceil(position);
    const at = (i: number): tf.Tensor1D => tf.reshape(tf.slice(descending, [0, n - 1 - i], [-1, 1]), [-1]) as tf.Tensor1D; // ascending index i
    if (lo === hi) return at(lo);
    return tf.add(at(lo), tf.mul(tf.sub(at(hi), at(lo)), position - lo)) as tf.Tensor1D;
  });
}

/**
 * Which entries of an error tensor count as "correct" (1) or "incorrect" (0): per sample (the leading
 * axis), an entry whose `|error| · scale` exceeds that sample's `quantile`-quantile plus `eps` is incorrect
 * (Dryden & Hoefler 2022, §2.2–2.3; off the tape; the reference's `get_correct_indices`, spcl/smoe `smoe/utils/misc.py`
 * at b62f291, defaults `quantile` 0.7, `eps` 1e-5). Returns float32 0/1 of `error`'s shape.
 *
 * @example
 * ```ts
 * const correct = correctByErrorQuantile(tf.sub(prediction, target), 0.7); // [B, H, W, K]
 * ```
 */
export function correctByErrorQuantile(error: tf.Tensor, quantile = 0.7, options: { eps?: number; scale?: number } = {}): tf.Tensor {
  const { eps = 1e-5, scale = 1 } = options;
  if (error.rank < 2) throw new MoEArgumentError('correctByErrorQuantile', 'error', 'rank ≥ 2 (a leading batch axis)', `rank ${error.rank}`);
  return tf.tidy(() => offTape(() => { // a constant of the step, off the tape (LessEqual has no gradient)
    const magnitude = tf.mul(tf.abs(error), scale); // [B, …]
    const threshold = rowQuantile(tf.reshape(magnitude, [error.shape[0]!, -1]) as tf.Tensor2D, quantile); // [B]
    const broadcast = tf.reshape(threshold, [error.shape[0]!, ...error.shape.slice(1).map(() => 1)]);
    return tf.cast(tf.lessEqual(magnitude, tf.add(broadcast, eps)), 'float32');
  }));
}
