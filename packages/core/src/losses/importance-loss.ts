import * as tf from '@tensorflow/tfjs-core';
import { checkOneOf, checkRank, rejectUnknownOptions } from '../util/validate.js';

/** Options of {@link importanceLoss}. */
export interface ImportanceLossOptions {
  /**
   * Variance in CV²: `'population'` (divide by E, as tensor2tensor's `cv_squared`) or `'unbiased'`
   * (divide by E − 1). Default `'population'`.
   */
  variance?: 'population' | 'unbiased';
}

/**
 * Importance loss, Shazeer et al. 2017 (arXiv:1701.06538) Eqs. 6-7: `CV(Importance)²` with
 * `Importance_i = Σ_x G(x)_i`, unweighted (the paper's `w_importance` is the router's).
 * As tensor2tensor's `cv_squared`: `var / (mean² + 1e-10)`, and 0 for a single expert, so the value
 * and its gradient are finite at perfect balance (and for all-zero gates).
 *
 * @param gates `[T, E]` gate values (probabilities or the sparse combine gates).
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { importanceLoss } from '@moekit/core';
 *
 * importanceLoss(tf.tensor2d([[1, 0], [0, 1]])); // importance [1, 1] → 0
 * ```
 */
export function importanceLoss(gates: tf.Tensor2D, options: ImportanceLossOptions = {}): tf.Scalar {
  const where = 'importanceLoss';
  rejectUnknownOptions(where, options, ['variance']);
  checkRank(where, 'gates', gates, 2);
  const variance = options.variance ?? 'population';
  checkOneOf(where, 'variance', variance, ['population', 'unbiased']);
  const numExperts = gates.shape[1];
  return tf.tidy(() => {
    if (numExperts === 1) return tf.mul(tf.sum(gates), 0) as tf.Scalar; // keeps the tape connected
    const importance = tf.sum(gates, 0); // [E]
    const mean = tf.mean(importance);
    const divisor = variance === 'population' ? numExperts : numExperts - 1;
    const varOfImportance = tf.div(tf.sum(tf.square(tf.sub(importance, mean))), divisor);
    return tf.div(varOfImportance, tf.add(tf.square(mean), 1e-10)) as tf.Scalar;
  });
}
