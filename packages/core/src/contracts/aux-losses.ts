import type * as tf from '@tensorflow/tfjs-core';

/**
 * Auxiliary losses of one call: `total` is the weighted sum that joins the training loss, every other
 * entry an unweighted part (e.g. `loadBalancing`, `routerZ`), reported so a user can log each term.
 */
export interface AuxLosses {
  /** Σ weight · part over every part: add this to the task loss. */
  total: tf.Scalar;
  /** Each named part, unweighted. */
  [part: string]: tf.Scalar;
}
