import * as tf from '@tensorflow/tfjs-core';
import { assignSlotsOnHost, countNeeded, priorityOrder, readExpertIndex, type SecondChoiceOffset } from './assign-slots.js';
import { computeCapacity, type CapacityRounding } from './capacity.js';
import { oneHotFloat } from './one-hot-float.js';
import type { CapacityPresetName } from './capacity-presets.js';
import type { RouterOutput } from './router.js';
import type { RoutingPlan } from './routing-plan.js';
import { checkAllFinite, checkInteger, checkOneOf, checkShape } from './validate.js';

/**
 * How combine weights are normalised over a token's choices:
 * `'none'` — the router's probability of each chosen expert (Switch: `p_i(x)`);
 * `'beforeDrop'` — divided by their sum over the `K` choices before capacity drops (Shazeer's softmax
 * over the top-k, GShard's `g1 / (g1 + g2)`), so a dropped choice's share is lost;
 * `'afterDrop'` — divided by their sum over the kept choices only, so kept weights sum to 1.
 */
export type Renormalize = 'none' | 'beforeDrop' | 'afterDrop';

/** How capacity is computed; every field but `capacityFactor` is optional. */
export interface CapacityConfig {
  /** Capacity factor (Tutel's sign convention, see {@link computeCapacity}). */
  capacityFactor: number;
  /** A library's capacity convention. */
  preset?: CapacityPresetName;
  /** Rounding of the even share (no preset only). Default `'ceil'`. */
  rounding?: CapacityRounding;
  /** Multiply the even share by `K` (no preset only). Default `true`. */
  multiplyByK?: boolean;
  /** Round up to a multiple of this. Default 1 or the preset's. */
  multipleOf?: number;
  /** Lower bound of a positive-factor capacity. Default 1 or the preset's. */
  minCapacity?: number;
}

/** Options of {@link planRouting}. */
export interface PlanRoutingOptions extends CapacityConfig {
  /** Combine-weight normalisation. Default `'none'`. */
  renormalize?: Renormalize;
  /** See {@link SecondChoiceOffset}. Default `'kept'`. */
  secondChoiceOffset?: SecondChoiceOffset;
}

const MIN_DENOMINATOR = 1e-30;

/**
 * Turns a router's choices into a {@link RoutingPlan}: capacity (from the factor and the demand),
 * slots (K-major, by priority when the router gave one), and combine weights
 * `probs[t, expertIndex[t, k]]` (renormalised as asked) times the kept mask. Only the combine
 * weights carry gradient (to `probs`); everything else is a constant.
 *
 * @example
 * ```ts
 * const plan = planRouting(router.route(x, { training: true }), 8, { capacityFactor: 1.25 });
 * ```
 */
export function planRouting(
  routing: Pick<RouterOutput, 'probs' | 'expertIndex' | 'priority'>,
  numExperts: number,
  options: PlanRoutingOptions,
): RoutingPlan {
  const where = 'planRouting';
  checkInteger(where, 'numExperts', numExperts, 1);
  const { probs, expertIndex, priority } = routing;
  const renormalize = options.renormalize ?? 'none';
  checkOneOf(where, 'renormalize', renormalize, ['none', 'beforeDrop', 'afterDrop']);
  const secondChoiceOffset = options.secondChoiceOffset ?? 'kept';
  checkOneOf(where, 'secondChoiceOffset', secondChoiceOffset, ['all', 'kept']);
  const index = readExpertIndex(where, expertIndex, numExperts);
  const [numTokens, k] = expertIndex.shape;
  checkShape(where, 'probs', probs, [numTokens, numExperts]);

  const needed = countNeeded(index, numExperts);
  const capacity = computeCapacity({
    ...options,
    numTokens,
    numExperts,
    k,
    neededCapacity: Math.max(0, ...needed),
  });
  let order: Int32Array | null = null;
  if (priority !== undefined) {
    checkShape(where, 'priority', priority, [numTokens]);
    checkAllFinite(where, 'priority', priority);
    order = priorityOrder(priority.dataSync());
  }
  const host = assignSlotsOnHost(index, numTokens, k, numExperts, capacity, order, secondChoiceOffset);
  // Plan tensors are rebuilt from host data, so nothing of the router's selection (TopK, sorting)
  // is on the path from the router's weights to the output: only `probs` is.
  const chosenExperts = tf.tensor2d(index, [numTokens, k], 'int32');
  const slot = tf.tensor2d(host.slot, [numTokens, k], 'int32');
  const combineWeight = tf.tidy(() => {
    const kept = tf.cast(tf.greaterEqual(slot, 0), 'float32'); // [T, K]
    const chosen = oneHotFloat(chosenExperts, numExperts); // [T, K, E], zero rows for -1
    const gate = tf.sum(tf.mul(chosen, tf.expandDims(probs, 1)), 2); // [T, K] probs at the chosen experts
    if (renormalize === 'none') return tf.mul(gate, kept);
    if (renormalize === 'beforeDrop') {
      return tf.mul(tf.div(gate, tf.maximum(tf.sum(gate, 1, true), MIN_DENOMINATOR)), kept);
    }
    const keptGate = tf.mul(gate, kept);
    return tf.div(keptGate, tf.maximum(tf.sum(keptGate, 1, true), MIN_DENOMINATOR));
  }) as tf.Tensor2D;
  return {
    numExperts,
    capacity,
    expertIndex: chosenExperts,
    slot,
    combineWeight,
    load: tf.tensor1d(host.load, 'int32'),
    needed: tf.tensor1d(host.needed, 'int32'),
    droppedCount: host.droppedCount,
  };
}
