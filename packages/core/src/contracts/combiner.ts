import type * as tf from '@tensorflow/tfjs-core';
import type { BufferLayout, BufferRows } from '../dispatch/buffer-rows.js';
import type { RoutingPlan } from './routing-plan.js';

/**
 * The combiner contract: gathers each token's expert outputs `[E, C, ...out]` back to token order
 * `[T, ...out]`. The default, {@link weightedSumCombiner}, sums them weighted by `plan.combineWeight`.
 */
export interface Combiner {
  /**
   * Returns `[T, ...out]` from the experts' `[E, C, ...out]` (or grouped `[N, ...out]`) under `plan`;
   * `rows` are the plan's buffer rows for `layout` when the caller computed them (sparse plans).
   */
  combine(expertOutput: tf.Tensor, plan: RoutingPlan, layout?: BufferLayout, rows?: BufferRows): tf.Tensor;
}
