import * as tf from '@tensorflow/tfjs-core';
import { checkInteger, checkRank } from '../util/validate.js';
import { withoutGradient } from '../util/without-gradient.js';

/**
 * The one shared selection step of every top-k router (as Tutel's gates only produce scores):
 * `[T, E]` scores → `[T, K]` int32 indices of the `k` largest per row, best first, computed off the
 * gradient tape (see {@link withoutGradient}). Ties go to the lower expert index.
 *
 * @example
 * ```ts
 * import { selectTopK } from '@moekit/core';
 *
 * const expertIndex = selectTopK(noisyLogits, 2); // [T, 2]
 * ```
 */
export function selectTopK(scores: tf.Tensor2D, k: number): tf.Tensor2D {
  checkRank('selectTopK', 'scores', scores, 2);
  checkInteger('selectTopK', 'k', k, 1, scores.shape[1]);
  return withoutGradient(scores, (s) =>
    tf.tidy(() => tf.topk(s, k, true).indices as tf.Tensor2D),
  );
}
