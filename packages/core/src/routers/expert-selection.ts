// Helpers for the optional `selectExperts` capability of routers and expert banks (expert pruning):
// one check of the kept indices and one copy of the kept experts' slices, so every component reads the same.
import * as tf from '@tensorflow/tfjs-core';
import { MoEArgumentError } from '../util/errors.js';
import { checkShape, describe } from '../util/validate.js';

/**
 * Throws unless `keep` is a non-empty list of distinct integer expert indices in `[0, numExperts)`:
 * the argument of every `selectExperts(keep)` (see {@link Capability}).
 */
export function checkExpertSelection(where: string, keep: readonly number[], numExperts: number): void {
  if (!Array.isArray(keep) || keep.length < 1 || keep.length > numExperts) {
    throw new MoEArgumentError(where, 'keep', `between 1 and ${numExperts} expert indices`, Array.isArray(keep) ? `${keep.length} indices` : describe(keep));
  }
  const seen = new Set<number>();
  for (const e of keep) {
    if (!Number.isInteger(e) || e < 0 || e >= numExperts) {
      throw new MoEArgumentError(where, 'keep', `integer expert indices in [0, ${numExperts - 1}]`, `${describe(e)} in ${describe(keep)}`);
    }
    if (seen.has(e)) throw new MoEArgumentError(where, 'keep', 'distinct expert indices', `${e} twice in ${describe(keep)}`);
    seen.add(e);
  }
}

/**
 * Assigns to `target` the slices `keep` of `source` along `axis` (expert `keep[i]` of `source` becomes
 * slice `i` of `target`): how `selectExperts` copies the kept experts' weights into a new component.
 * The values are copied exactly (a gather, no arithmetic); `source` is left unchanged.
 */
export function copyExpertSlices(target: tf.Variable, source: tf.Tensor, keep: readonly number[], axis: number): void {
  const expected = source.shape.map((d, i) => (i === axis ? keep.length : d));
  checkShape('copyExpertSlices', 'target', target, expected);
  tf.tidy(() => {
    target.assign(tf.gather(source, tf.tensor1d(Array.from(keep), 'int32'), axis));
  });
}
