import * as tf from '@tensorflow/tfjs-core';
import { checkSlotOrder, placeChoices, type SecondChoiceOffset, type SlotOrder } from './assign-slots.js';
import { computeCapacity, type CapacityRounding } from './capacity.js';
import type { CapacityPresetName } from './capacity-presets.js';
import { checkExpertIndexShape, readExpertIndex } from './check-expert-index.js';
import { clampIndex } from './clamp-index.js';
import { oneHotFloat } from '../util/one-hot-float.js';
import type { TokenChoiceOutput } from '../contracts/router.js';
import type { SparseRoutingPlan } from '../contracts/routing-plan.js';
import { checkAllFinite, checkInteger, checkOneOf, checkShape, rejectUnknownOptions } from '../util/validate.js';
import { offTape } from '../util/without-gradient.js';

/**
 * How combine weights are normalised over a token's choices:
 * `'none'` — the router's probability of each chosen expert (Switch: `p_i(x)`);
 * `'beforeDrop'` — divided by their sum over the `K` choices before capacity drops (Shazeer's softmax
 * over the top-k, GShard's `g1 / (g1 + g2)`), so a dropped choice's share is lost;
 * `'afterDrop'` — divided by their sum over the kept choices only, so kept weights sum to 1.
 */
export type Renormalize = 'none' | 'beforeDrop' | 'afterDrop';

/** The capacity of one call: a factor and the rules that turn it into slots (see {@link computeCapacity}). */
export interface CallCapacity {
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
export interface PlanRoutingOptions extends CallCapacity {
  /** Combine-weight normalisation. Default `'none'`. */
  renormalize?: Renormalize;
  /** See {@link SecondChoiceOffset}. Default `'kept'`. */
  secondChoiceOffset?: SecondChoiceOffset;
  /** See {@link SlotOrder}. Default `'choiceMajor'`. */
  slotOrder?: SlotOrder;
  /**
   * The largest number of pairs any expert was asked for, when the caller has already read it (a
   * factor ≤ 0 needs it; without it `planRouting` reads `needed` itself: one `[E]` read).
   */
  neededCapacity?: number;
  /** Check `expertIndex`'s values and `priority`'s finiteness (host reads). Default `true`; the MoE engine passes `false`. */
  validate?: boolean;
}

const MIN_DENOMINATOR = 1e-30;

/** `[E]` int32 pairs asking for each expert (`-1` choices skipped), on the device. @internal */
export function countChoices(expertIndex: tf.Tensor2D, numExperts: number): tf.Tensor1D {
  return offTape(() => tf.tidy(() => tf.cast(tf.sum(oneHotFloat(tf.reshape(expertIndex, [-1]), numExperts), 0), 'int32') as tf.Tensor1D));
}

// the keys of PlanRoutingOptions: a misspelt one is an error naming it, never a silent default
const PLAN_ROUTING_OPTIONS: readonly (keyof PlanRoutingOptions)[] = ['capacityFactor', 'preset', 'rounding', 'multiplyByK', 'multipleOf', 'minCapacity', 'renormalize', 'secondChoiceOffset', 'slotOrder', 'neededCapacity', 'validate'];

/**
 * Turns a router's token choices into a {@link SparseRoutingPlan}, on the device: capacity (from the
 * factor, and the demand when the factor is ≤ 0), slots (K-major or token-major, by priority when the router gave
 * one; see {@link assignSlots}), and combine weights `probs[t, expertIndex[t, k]]` (a gather, no
 * one-hot) renormalised as asked, times the kept mask. Only the combine weights carry gradient (to
 * `probs`); everything else is a constant. Host reads: the value checks when `validate` (default),
 * and one `[E]` read of the demand for a factor ≤ 0 unless `neededCapacity` is given.
 *
 * @example
 * ```ts
 * import { planRouting } from '@moekit/core';
 *
 * const plan = planRouting(router.route(x, { training: true }), 8, { capacityFactor: 1.25 });
 * ```
 */
export function planRouting(routing: Pick<TokenChoiceOutput, 'probs' | 'expertIndex' | 'priority'>, numExperts: number, options: PlanRoutingOptions): SparseRoutingPlan {
  const where = 'planRouting';
  rejectUnknownOptions(where, options, PLAN_ROUTING_OPTIONS);
  checkInteger(where, 'numExperts', numExperts, 1);
  const { probs, expertIndex, priority } = routing;
  const renormalize = options.renormalize ?? 'none';
  checkOneOf(where, 'renormalize', renormalize, ['none', 'beforeDrop', 'afterDrop']);
  const { secondChoiceOffset, slotOrder } = checkSlotOrder(where, options);
  checkExpertIndexShape(where, expertIndex, numExperts);
  const [numTokens, k] = expertIndex.shape;
  checkShape(where, 'probs', probs, [numTokens, numExperts]);
  if (priority !== undefined) checkShape(where, 'priority', priority, [numTokens]);
  if (options.validate ?? true) {
    readExpertIndex(where, expertIndex, numExperts);
    if (priority !== undefined) checkAllFinite(where, 'priority', priority);
  }

  let neededCapacity = options.neededCapacity;
  if (options.capacityFactor <= 0 && neededCapacity === undefined) {
    const needed = countChoices(expertIndex, numExperts);
    neededCapacity = Math.max(0, ...needed.dataSync()); // the one read a dropless capacity needs
    needed.dispose();
  }
  const capacity = computeCapacity({
    capacityFactor: options.capacityFactor,
    preset: options.preset,
    rounding: options.rounding,
    multiplyByK: options.multiplyByK,
    multipleOf: options.multipleOf,
    minCapacity: options.minCapacity,
    numTokens,
    numExperts,
    k,
    neededCapacity,
  });
  const placed = placeChoices(expertIndex, numExperts, capacity, priority, secondChoiceOffset, slotOrder);
  const combineWeight = tf.tidy(() => {
    const [kept, used, flatIndex] = offTape(() => tf.tidy(() => {
      const rowStart = tf.reshape(tf.mul(tf.range(0, numTokens, 1, 'int32'), tf.scalar(numExperts, 'int32')), [numTokens, 1]); // [T, 1] t·E
      return [
        tf.cast(tf.greaterEqual(placed.slot, 0), 'float32'), // [T, K] kept pairs
        tf.cast(tf.greaterEqual(expertIndex, 0), 'float32'), // [T, K] used choices
        tf.add(rowStart, clampIndex(expertIndex, numExperts)), // [T, K] flat index t·E + e (an unchecked out-of-range choice reads a valid column, then is masked: never kept)
      ];
    }));
    // probs at the chosen experts: a gather of the flattened [T·E] probabilities (differentiable)
    const gate = tf.mul(tf.reshape(tf.gather(tf.reshape(probs, [-1]), tf.reshape(flatIndex, [-1])), [numTokens, k]), used); // [T, K]
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
    expertIndex: offTape(() => tf.clone(expertIndex)),
    slot: placed.slot,
    combineWeight,
    load: placed.load,
    needed: placed.needed,
    dropped: placed.dropped,
  };
}
