import * as tf from '@tensorflow/tfjs-core';
import { checkShape, MoEArgumentError } from '@moekit/core';

/**
 * The 3-D points `o + t·d` at sample distances `tVals` `[R, S]` along rays `origins`, `directions`
 * `[R, 3]`, flattened ray-major to `[R·S, 3]` (the tokens an MoE field routes).
 *
 * @example
 * ```ts
 * import { rayPoints } from '@moekit/experts-hash-nerf';
 *
 * const points = rayPoints(rays.origins, rays.directions, t); // [R·S, 3]
 * ```
 */
export function rayPoints(origins: tf.Tensor2D, directions: tf.Tensor2D, tVals: tf.Tensor2D): tf.Tensor2D {
  const where = 'rayPoints';
  if (origins.rank !== 2 || origins.shape[1] !== 3) throw new MoEArgumentError(where, 'origins', 'shape [R, 3]', `shape [${origins.shape.join(', ')}]`);
  checkShape(where, 'directions', directions, origins.shape);
  if (tVals.rank !== 2 || tVals.shape[0] !== origins.shape[0]) throw new MoEArgumentError(where, 'tVals', `shape [${origins.shape[0]}, S]`, `shape [${tVals.shape.join(', ')}]`);
  const [R, S] = tVals.shape;
  return tf.tidy(() => {
    const p = tf.add(tf.expandDims(origins, 1), tf.mul(tf.expandDims(directions, 1), tf.expandDims(tVals, 2))); // [R, S, 3]
    return tf.reshape(p, [R * S, 3]) as tf.Tensor2D;
  });
}
