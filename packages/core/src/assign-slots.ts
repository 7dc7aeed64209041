import * as tf from '@tensorflow/tfjs-core';
import { MoEArgumentError } from './errors.js';
import { checkAllFinite, checkDtype, checkInteger, checkOneOf, checkRank, checkShape } from './validate.js';

/**
 * Where a second (third, …) choice starts counting in an expert's buffer:
 * `'all'` after every earlier choice that asked for the expert (Tutel: one cumsum over all choices),
 * `'kept'` after the earlier choices it kept (GShard Algorithm 1: `locations2 += sum(mask1)` after
 * `mask1` is capacity-masked). Both keep exactly the same (token, choice) pairs — an earlier choice
 * is dropped only once the buffer is full, and then every later choice is too — so the option
 * exists to make ported code read the same; the property tests check the equivalence.
 */
export type SecondChoiceOffset = 'all' | 'kept';

/** Options of {@link assignSlots}. */
export interface AssignSlotsOptions {
  /** `[T]` priority: tokens are placed in descending priority, ties in token order (V-MoE BPR). */
  priority?: tf.Tensor1D;
  /** See {@link SecondChoiceOffset}. Default `'kept'`. */
  secondChoiceOffset?: SecondChoiceOffset;
}

/** The slot part of a {@link RoutingPlan}, as {@link assignSlots} returns it. */
export interface SlotAssignment {
  /** `[T, K]` int32 slot in the chosen expert's buffer, `-1` when dropped or not used. */
  slot: tf.Tensor2D;
  /** `[E]` int32 kept pairs per expert. */
  load: tf.Tensor1D;
  /** `[E]` int32 pairs that asked for each expert. */
  needed: tf.Tensor1D;
  /** Pairs dropped for lack of capacity: Σ needed − Σ load. */
  droppedCount: number;
}

/** Host-side result of the slot assignment. @internal */
export interface HostSlotAssignment {
  slot: Int32Array;
  load: Int32Array;
  needed: Int32Array;
  droppedCount: number;
}

/** Counts the (token, choice) pairs asking for each expert; `-1` choices are skipped. @internal */
export function countNeeded(expertIndex: Int32Array, numExperts: number): Int32Array {
  const needed = new Int32Array(numExperts);
  for (const e of expertIndex) if (e >= 0) needed[e]! += 1;
  return needed;
}

/** Token order for placement: descending priority, stable. @internal */
export function priorityOrder(priority: ArrayLike<number>): Int32Array {
  const order = Array.from({ length: priority.length }, (_, t) => t);
  order.sort((a, b) => priority[b]! - priority[a]! || a - b);
  return Int32Array.from(order);
}

/**
 * The slot assignment on host arrays: K-major (every first choice before any second choice), tokens
 * in `order`, a pair kept while its expert has a free slot. `expertIndex` is `[T, K]` row-major.
 * @internal
 */
export function assignSlotsOnHost(
  expertIndex: Int32Array,
  numTokens: number,
  k: number,
  numExperts: number,
  capacity: number,
  order: Int32Array | null,
  secondChoiceOffset: SecondChoiceOffset,
): HostSlotAssignment {
  const slot = new Int32Array(numTokens * k).fill(-1);
  const load = new Int32Array(numExperts);
  const needed = new Int32Array(numExperts);
  const position = new Int32Array(numExperts); // next position per expert, counting dropped pairs
  let droppedCount = 0;
  for (let choice = 0; choice < k; choice++) {
    if (choice > 0 && secondChoiceOffset === 'kept') position.set(load);
    for (let i = 0; i < numTokens; i++) {
      const t = order === null ? i : order[i]!;
      const e = expertIndex[t * k + choice]!;
      if (e < 0) continue;
      needed[e]! += 1;
      const p = position[e]!;
      position[e] = p + 1;
      if (p < capacity) {
        slot[t * k + choice] = p;
        load[e]! += 1;
      } else {
        droppedCount++;
      }
    }
  }
  return { slot, load, needed, droppedCount };
}

/** Validates `expertIndex` `[T, K]` int32 with values in `[-1, E)` and returns its data. @internal */
export function readExpertIndex(where: string, expertIndex: tf.Tensor, numExperts: number): Int32Array {
  checkRank(where, 'expertIndex', expertIndex, 2);
  checkDtype(where, 'expertIndex', expertIndex, 'int32');
  checkInteger(where, 'k (expertIndex.shape[1])', expertIndex.shape[1]!, 1, numExperts);
  const data = expertIndex.dataSync() as Int32Array;
  for (let i = 0; i < data.length; i++) {
    const e = data[i]!;
    if (e < -1 || e >= numExperts) {
      throw new MoEArgumentError(where, 'expertIndex', `values in [-1, ${numExperts}) (-1 = choice not used)`, `${e} at flat index ${i}`);
    }
  }
  return data;
}

/**
 * Assigns each (token, choice) pair a slot in its expert's buffer of `capacity` rows: all first
 * choices before any second choice (K-major), tokens in order or by descending `priority` (stable),
 * pairs past the capacity dropped (`slot = -1`) and counted.
 *
 * @param expertIndex `[T, K]` int32 chosen experts (`-1` = choice not used).
 * @param numExperts `E`.
 * @param capacity slots per expert, ≥ 1.
 * @example
 * ```ts
 * // tokens 0..3 choose experts [0, 0, 1, 0] with capacity 2: token 3 is dropped
 * const { slot, droppedCount } = assignSlots(tf.tensor2d([[0], [0], [1], [0]], [4, 1], 'int32'), 2, 2);
 * // slot = [[0], [1], [0], [-1]], droppedCount = 1
 * ```
 */
export function assignSlots(
  expertIndex: tf.Tensor2D,
  numExperts: number,
  capacity: number,
  options: AssignSlotsOptions = {},
): SlotAssignment {
  const where = 'assignSlots';
  checkInteger(where, 'numExperts', numExperts, 1);
  checkInteger(where, 'capacity', capacity, 1);
  const secondChoiceOffset = options.secondChoiceOffset ?? 'kept';
  checkOneOf(where, 'secondChoiceOffset', secondChoiceOffset, ['all', 'kept']);
  const index = readExpertIndex(where, expertIndex, numExperts);
  const [numTokens, k] = expertIndex.shape;
  let order: Int32Array | null = null;
  if (options.priority !== undefined) {
    checkShape(where, 'priority', options.priority, [numTokens]);
    checkAllFinite(where, 'priority', options.priority);
    order = priorityOrder(options.priority.dataSync());
  }
  const host = assignSlotsOnHost(index, numTokens, k, numExperts, capacity, order, secondChoiceOffset);
  return {
    slot: tf.tensor2d(host.slot, [numTokens, k], 'int32'),
    load: tf.tensor1d(host.load, 'int32'),
    needed: tf.tensor1d(host.needed, 'int32'),
    droppedCount: host.droppedCount,
  };
}
