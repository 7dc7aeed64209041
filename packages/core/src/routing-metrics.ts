import type * as tf from '@tensorflow/tfjs-core';
import type { RoutingPlan } from './routing-plan.js';
import { checkShape } from './validate.js';

/** What one routing call did, as plain numbers (safe to log; nothing to dispose). */
export interface RoutingMetrics {
  /** Slots per expert `C` used in this call. */
  capacity: number;
  /** `[E]` kept (token, choice) pairs per expert. */
  load: number[];
  /** `[E]` (token, choice) pairs that asked for each expert. */
  needed: number[];
  /** Pairs dropped for lack of capacity. */
  droppedCount: number;
  /** `droppedCount / Σ needed` (0 when nothing was routed). */
  droppedFraction: number;
  /** `[E]` importance `Σ_x probs(x)_i` (Shazeer et al. 2017, Eq. 6). */
  importance: number[];
  /** Mean over tokens of the router's entropy `−Σ_i p_i ln p_i`, in nats (`ln E` = uniform). */
  routerEntropy: number;
  /** Mean number of kept choices per token (≤ K; lower when pairs are dropped or unused). */
  expertsPerToken: number;
}

/**
 * Summarises a routing plan and its probabilities `[T, E]` as plain numbers: per-expert load and
 * demand, dropped fraction, importance, router entropy and experts per token. Reads both back to the host.
 *
 * @example
 * ```ts
 * const m = routingMetrics(plan, probs);
 * console.log(m.load, m.droppedFraction);
 * ```
 */
export function routingMetrics(plan: RoutingPlan, probs: tf.Tensor2D): RoutingMetrics {
  const [numTokens, k] = plan.expertIndex.shape;
  checkShape('routingMetrics', 'probs', probs, [numTokens, plan.numExperts]);
  const load = Array.from(plan.load.dataSync());
  const needed = Array.from(plan.needed.dataSync());
  const p = probs.dataSync();
  const importance = new Array<number>(plan.numExperts).fill(0);
  let entropy = 0;
  for (let t = 0; t < numTokens; t++) {
    for (let e = 0; e < plan.numExperts; e++) {
      const v = p[t * plan.numExperts + e]!;
      importance[e]! += v;
      if (v > 0) entropy -= v * Math.log(v);
    }
  }
  const totalNeeded = needed.reduce((a, b) => a + b, 0);
  const totalKept = load.reduce((a, b) => a + b, 0);
  return {
    capacity: plan.capacity,
    load,
    needed,
    droppedCount: plan.droppedCount,
    droppedFraction: totalNeeded === 0 ? 0 : plan.droppedCount / totalNeeded,
    importance,
    routerEntropy: numTokens === 0 ? 0 : entropy / numTokens,
    expertsPerToken: numTokens === 0 ? 0 : Math.min(totalKept / numTokens, k),
  };
}
