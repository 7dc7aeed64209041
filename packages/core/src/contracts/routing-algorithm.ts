import type * as tf from '@tensorflow/tfjs-core';
import type { RouteOptions, RouterOutput } from './router.js';

/**
 * The routing-algorithm contract: turns a gate's scores `[T, N]` into routing decisions — token
 * choices for core to place ({@link TokenChoiceOutput}: top-k, sigmoid top-k, aux-loss-free bias), or
 * a complete {@link RoutingPlan} (expert choice, Soft MoE, balanced assignment). Decisions are made
 * on the device: no host read. An algorithm owns its settings (capacity, slots, temperature) and may
 * hold non-trainable state (aux-loss-free balancing's bias), updated on the device inside a training
 * `route` call.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { selectTopK } from '@moekit/core';
 *
 * // the smallest complete algorithm: top-1 of the softmax, weight = its probability (Switch)
 * const top1: RoutingAlgorithm = {
 *   numExperts: 8, k: 1,
 *   route(logits) {
 *     return tf.tidy(() => {
 *       const probs = tf.softmax(logits) as tf.Tensor2D;
 *       return { logits: tf.clone(logits), probs, expertIndex: selectTopK(probs, 1), auxLosses: { total: tf.scalar(0) } };
 *     });
 *   },
 * };
 * ```
 */
export interface RoutingAlgorithm {
  /** Experts `E` the plan routes to. */
  readonly numExperts: number;
  /** Choices per token `K` (nominal for algorithms that plan themselves). */
  readonly k: number;
  /** Scores per expert the algorithm reads: `E`, or `E·S` for Soft MoE. Default `numExperts`. */
  readonly numScores?: number;
  /** Turns `[T, N]` scores into token choices or a plan; the caller owns everything returned. */
  route(logits: tf.Tensor2D, options: RouteOptions): RouterOutput;
  /** Releases the algorithm's state, if it holds any. */
  dispose?(): void;
}
