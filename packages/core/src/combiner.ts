import type * as tf from '@tensorflow/tfjs-core';
import type { RoutingPlan } from './routing-plan.js';

/**
 * The combiner contract: gathers each token's expert outputs `[E, C, ...out]` back to token order
 * `[T, ...out]`. The default, {@link weightedSumCombiner}, sums them weighted by `plan.combineWeight`.
 */
export interface Combiner {
  /** Returns `[T, ...out]` from the experts' `[E, C, ...out]` under `plan`. */
  combine(expertOutput: tf.Tensor, plan: RoutingPlan): tf.Tensor;
}
