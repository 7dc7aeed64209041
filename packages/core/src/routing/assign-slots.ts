import * as tf from '@tensorflow/tfjs-core';
import { checkExpertIndexShape, readExpertIndex } from './check-expert-index.js';
import { oneHotFloat } from '../util/one-hot-float.js';
import { MoEArgumentError } from '../util/errors.js';
import { checkAllFinite, checkInteger, checkOneOf, checkShape, rejectUnknownOptions } from '../util/validate.js';
import { offTape } from '../util/without-gradient.js';

/**
 * Where a second (third, …) choice starts counting in an expert's buffer:
 * `'all'` after every earlier choice that asked for the expert (Tutel: one cumsum over all choices),
 * `'kept'` after the earlier choices it kept (GShard Algorithm 1: `locations2 += sum(mask1)` after
 * `mask1` is capacity-masked). Both keep exactly the same (token, choice) pairs — an earlier choice
 * is dropped only once the buffer is full, and then every later choice is too — so the option
 * exists to make ported code read the same; the property tests check the equivalence.
 */
export type SecondChoiceOffset = 'all' | 'kept';

/**
 * The order in which (token, choice) pairs take slots:
 * `'choiceMajor'` — every token's first choice before any second choice (GShard Algorithm 1, Tutel,
 * V-MoE, DeepSpeed `top2gating`): under pressure, second choices are dropped first;
 * `'tokenMajor'` — one running count per expert over all of a token's choices, token after token
 * (DeepSpeed `topkgating` with `drop_policy='position'`: `locations = cumsum(mask, 0) − 1` over the
 * `[T, E]` mask of all choices): a late token loses even its first choice to an earlier token's third.
 * With a `priority` (BPR) the tokens are taken in descending priority in either order. `tokenMajor`
 * has a single count per expert, so {@link SecondChoiceOffset} does not apply: `'all'` is rejected.
 */
export type SlotOrder = 'choiceMajor' | 'tokenMajor';

/** Options of {@link assignSlots}. */
export interface AssignSlotsOptions {
  /** `[T]` priority: tokens are placed in descending priority (V-MoE BPR), by a device sort. */
  priority?: tf.Tensor1D;
  /** See {@link SecondChoiceOffset}. Default `'kept'`. */
  secondChoiceOffset?: SecondChoiceOffset;
  /** See {@link SlotOrder}. Default `'choiceMajor'`. */
  slotOrder?: SlotOrder;
  /**
   * `[T, K]` score of each (token, choice) pair: each expert keeps the `capacity` pairs asking for it
   * with the highest score (ties: the earlier pair in `[T, K]` order), wherever they are in the batch —
   * DeepSpeed `topkgating`'s `drop_policy='probs'` with the chosen gate logits as scores. The kept
   * pairs then take slots in `slotOrder` (`'tokenMajor'` numbers them as DeepSpeed does). Not with
   * `priority`. DeepSpeed ranks the chosen logits against zeros for the tokens that did not choose the
   * expert, so there a chosen pair with a negative logit can lose to an empty entry; here only chosen
   * pairs compete (the same as DeepSpeed on logits shifted above 0).
   */
  pairPriority?: tf.Tensor2D;
  /**
   * Check the values of `expertIndex` (in `[-1, E)`) and `priority` (finite) before placing: two
   * host reads, for standalone use. Default `true`; the MoE engine places with `false` and folds its
   * checks into the one read a step may have (see `MixtureOfExperts`' `checkFinite`).
   */
  validate?: boolean;
}

/** The slot part of a routing plan, as {@link assignSlots} returns it: tensors on the device. */
export interface SlotAssignment {
  /** `[T, K]` int32 slot in the chosen expert's buffer, `-1` when dropped or not used. */
  slot: tf.Tensor2D;
  /** `[E]` int32 kept pairs per expert. */
  load: tf.Tensor1D;
  /** `[E]` int32 pairs that asked for each expert. */
  needed: tf.Tensor1D;
  /** int32 scalar: pairs dropped for lack of capacity, `Σ needed − Σ load`. */
  dropped: tf.Scalar;
}

/**
 * Assigns each (token, choice) pair a slot in its expert's buffer of `capacity` rows, on the device:
 * all first choices before any second choice (K-major; or token by token with `slotOrder: 'tokenMajor'`),
 * tokens in order or by descending `priority`, pairs past the capacity dropped (`slot = -1`) and
 * counted — or, with `pairPriority`, each expert keeping its highest-scored pairs. Positions are cumulative sums over the
 * choices' one-hot masks, as GShard (Lepikhin et al. 2020, Algorithm 1: `locations1 = cumsum(mask1)`)
 * and Tutel (`fast_cumsum_sub_one`) compute them; priority order is a device sort (`topk` over all
 * tokens; ties in token order on the cpu backend), all off the gradient tape. No host read unless `validate`.
 *
 * @param expertIndex `[T, K]` int32 chosen experts (`-1` = choice not used).
 * @param numExperts `E`.
 * @param capacity slots per expert, ≥ 1.
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { assignSlots } from '@moekit/core';
 *
 * // tokens 0..3 choose experts [0, 0, 1, 0] with capacity 2: token 3 is dropped
 * const { slot, dropped } = assignSlots(tf.tensor2d([[0], [0], [1], [0]], [4, 1], 'int32'), 2, 2);
 * // slot = [[0], [1], [0], [-1]], dropped = 1
 * ```
 */
export function assignSlots(expertIndex: tf.Tensor2D, numExperts: number, capacity: number, options: AssignSlotsOptions = {}): SlotAssignment {
  const where = 'assignSlots';
  rejectUnknownOptions(where, options, ['priority', 'secondChoiceOffset', 'slotOrder', 'pairPriority', 'validate']);
  checkInteger(where, 'numExperts', numExperts, 1);
  checkInteger(where, 'capacity', capacity, 1);
  const { secondChoiceOffset, slotOrder } = checkSlotOrder(where, options);
  checkExpertIndexShape(where, expertIndex, numExperts);
  if (options.priority !== undefined) checkShape(where, 'priority', options.priority, [expertIndex.shape[0]]);
  if (options.pairPriority !== undefined) {
    if (options.priority !== undefined) throw new MoEArgumentError(where, 'pairPriority', 'no value with a token priority (each orders the placement)', `shape [${options.pairPriority.shape.join(', ')}]`);
    checkShape(where, 'pairPriority', options.pairPriority, expertIndex.shape);
  }
  if (options.validate ?? true) {
    readExpertIndex(where, expertIndex, numExperts);
    if (options.priority !== undefined) checkAllFinite(where, 'priority', options.priority);
    if (options.pairPriority !== undefined) checkAllFinite(where, 'pairPriority', options.pairPriority);
  }
  if (options.pairPriority !== undefined) return placeByPairPriority(expertIndex, numExperts, capacity, options.pairPriority, secondChoiceOffset, slotOrder);
  return placeChoices(expertIndex, numExperts, capacity, options.priority, secondChoiceOffset, slotOrder);
}

/** Checks `secondChoiceOffset` and `slotOrder` and their combination, filling the defaults. @internal */
export function checkSlotOrder(where: string, options: { secondChoiceOffset?: SecondChoiceOffset; slotOrder?: SlotOrder }): { secondChoiceOffset: SecondChoiceOffset; slotOrder: SlotOrder } {
  const secondChoiceOffset = options.secondChoiceOffset ?? 'kept';
  checkOneOf(where, 'secondChoiceOffset', secondChoiceOffset, ['all', 'kept']);
  const slotOrder = options.slotOrder ?? 'choiceMajor';
  checkOneOf(where, 'slotOrder', slotOrder, ['choiceMajor', 'tokenMajor']);
  if (slotOrder === 'tokenMajor' && secondChoiceOffset === 'all') {
    throw new MoEArgumentError(where, 'secondChoiceOffset', "'kept' (the default) with slotOrder 'tokenMajor', which keeps one running count per expert and has no second-choice offset", "'all'");
  }
  return { secondChoiceOffset, slotOrder };
}

/** {@link assignSlots} without checks: the engine's placement, all on the device. @internal */
export function placeChoices(
  expertIndex: tf.Tensor2D,
  numExperts: number,
  capacity: number,
  priority: tf.Tensor1D | undefined,
  secondChoiceOffset: SecondChoiceOffset,
  slotOrder: SlotOrder = 'choiceMajor',
): SlotAssignment {
  const [numTokens, k] = expertIndex.shape;
  return offTape(() => tf.tidy(() => {
    // placement order: descending priority (a device sort), else token order
    const order = priority === undefined ? undefined : (tf.topk(priority, numTokens, true).indices as tf.Tensor1D); // [T]
    const placed = order === undefined ? expertIndex : (tf.gather(expertIndex, order) as tf.Tensor2D); // [T, K] in placement order
    const columns = k === 1 ? [placed] : tf.split(placed, k, 1); // K × [T, 1]
    const placedSlot = slotOrder === 'tokenMajor' ? placeTokenMajor(columns, numTokens, numExperts, capacity) : placeChoiceMajor(columns, numTokens, numExperts, capacity, secondChoiceOffset);
    const slot = order === undefined ? placedSlot.slot : (tf.scatterND(tf.expandDims(order, 1), placedSlot.slot, [numTokens, k]) as tf.Tensor2D); // back to token order
    const loadInt = tf.cast(placedSlot.load, 'int32') as tf.Tensor1D;
    const neededInt = tf.cast(placedSlot.needed, 'int32') as tf.Tensor1D;
    const dropped = tf.sub(tf.sum(neededInt), tf.sum(loadInt)) as tf.Scalar;
    return { slot, load: loadInt, needed: neededInt, dropped };
  }));
}

/**
 * Placement by pair score (DeepSpeed `drop_policy='probs'`), on the device: the pairs sorted by
 * descending score (`topk` over all `T·K`), a cumsum per expert in that order gives each pair its rank,
 * pairs ranked below `capacity` are kept and then take slots in `slotOrder` (all fit).
 */
function placeByPairPriority(expertIndex: tf.Tensor2D, numExperts: number, capacity: number, pairPriority: tf.Tensor2D, secondChoiceOffset: SecondChoiceOffset, slotOrder: SlotOrder): SlotAssignment {
  const [numTokens, k] = expertIndex.shape;
  const keptIndex = offTape(() => tf.tidy(() => {
    const numPairs = numTokens * k;
    const order = tf.topk(tf.reshape(pairPriority, [numPairs]), numPairs, true).indices; // [T·K] descending score
    const mask = oneHotFloat(tf.gather(tf.reshape(expertIndex, [numPairs]), order), numExperts); // [T·K, E] in score order
    const rank = tf.sum(tf.mul(tf.cumsum(mask, 0, true), mask), 1); // [T·K] higher-scored pairs before it for the same expert
    const keptSorted = tf.cast(tf.less(rank, capacity), 'int32'); // [T·K] (unused pairs are -1 and stay so below)
    const kept = tf.reshape(tf.scatterND(tf.expandDims(order, 1), keptSorted, [numPairs]), [numTokens, k]); // [T, K] back to pair order
    return tf.where(tf.greater(kept, 0), expertIndex, tf.fill([numTokens, k], -1, 'int32')) as tf.Tensor2D; // [T, K] dropped pairs unused
  }));
  const placed = placeChoices(keptIndex, numExperts, capacity, undefined, secondChoiceOffset, slotOrder); // every kept pair fits
  const needed = offTape(() => tf.tidy(() => tf.cast(tf.sum(oneHotFloat(tf.reshape(expertIndex, [-1]), numExperts), 0), 'int32') as tf.Tensor1D)); // [E]
  const dropped = offTape(() => tf.tidy(() => tf.sub(tf.sum(needed), tf.sum(placed.load)) as tf.Scalar));
  tf.dispose([keptIndex, placed.needed, placed.dropped]);
  return { slot: placed.slot, load: placed.load, needed, dropped };
}

/** `[T, K]` int32 slots in placement order, and float `[E]` load and demand. */
interface PlacedSlots {
  slot: tf.Tensor2D;
  load: tf.Tensor;
  needed: tf.Tensor;
}

/** Choice-major placement: column after column, each a cumsum over the tokens (GShard Algorithm 1). */
function placeChoiceMajor(columns: tf.Tensor[], numTokens: number, numExperts: number, capacity: number, secondChoiceOffset: SecondChoiceOffset): PlacedSlots {
  let offset: tf.Tensor = tf.zeros([1, numExperts]); // [1, E] positions taken before this choice
  let load: tf.Tensor = tf.zeros([numExperts]); // [E]
  let needed: tf.Tensor = tf.zeros([numExperts]); // [E]
  const slots: tf.Tensor[] = [];
  for (const column of columns) {
    const mask = oneHotFloat(tf.reshape(column, [numTokens]), numExperts); // [T, E], zero rows for -1
    // GShard Algorithm 1: position of each pair = (pairs before it asking for the same expert) + offset
    const position = tf.add(tf.cumsum(mask, 0, true), offset); // [T, E]
    const pairPosition = tf.sum(tf.mul(position, mask), 1); // [T]
    const used = tf.sum(mask, 1); // [T] 1 for a used choice, 0 for -1
    const kept = tf.mul(used, tf.cast(tf.less(pairPosition, capacity), 'float32')); // [T]
    slots.push(tf.where(tf.greater(kept, 0), tf.cast(pairPosition, 'int32'), tf.fill([numTokens], -1, 'int32')));
    const asked = tf.sum(mask, 0); // [E]
    needed = tf.add(needed, asked);
    load = tf.add(load, tf.sum(tf.mul(mask, tf.expandDims(kept, 1)), 0));
    offset = secondChoiceOffset === 'all' ? tf.add(offset, asked) : tf.expandDims(load, 0);
  }
  return { slot: tf.stack(slots, 1) as tf.Tensor2D, load, needed };
}

/**
 * Token-major placement: one running count per expert over all pairs, token after token, a token's
 * choices in column order (DeepSpeed `topkgating`, `drop_policy='position'`: `locations = cumsum(mask, 0) − 1`
 * over the `[T, E]` mask of all choices). Dropped pairs keep their place in the count, as there.
 */
function placeTokenMajor(columns: tf.Tensor[], numTokens: number, numExperts: number, capacity: number): PlacedSlots {
  const masks = columns.map((column) => oneHotFloat(tf.reshape(column, [numTokens]), numExperts)); // K × [T, E], zero rows for -1
  const all = tf.addN(masks); // [T, E] pairs of each token asking for each expert
  const before = tf.cumsum(all, 0, true); // [T, E] pairs of earlier tokens asking for the expert
  let within: tf.Tensor = tf.zerosLike(all); // [T, E] pairs of this token's earlier choices asking for the expert
  let load: tf.Tensor = tf.zeros([numExperts]); // [E]
  const slots: tf.Tensor[] = [];
  for (const mask of masks) {
    const pairPosition = tf.sum(tf.mul(tf.add(before, within), mask), 1); // [T]
    const used = tf.sum(mask, 1); // [T]
    const kept = tf.mul(used, tf.cast(tf.less(pairPosition, capacity), 'float32')); // [T]
    slots.push(tf.where(tf.greater(kept, 0), tf.cast(pairPosition, 'int32'), tf.fill([numTokens], -1, 'int32')));
    load = tf.add(load, tf.sum(tf.mul(mask, tf.expandDims(kept, 1)), 0));
    within = tf.add(within, mask);
  }
  return { slot: tf.stack(slots, 1) as tf.Tensor2D, load, needed: tf.sum(all, 0) };
}
