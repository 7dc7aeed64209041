// The first engine's slot assignment, as a host loop over plain arrays: kept as the reference the
// device implementation (assign-slots.ts) is tested against, and for readers who want the rule
// spelled out one pair at a time. Not on any forward path.
import type { SecondChoiceOffset, SlotOrder } from './assign-slots.js';

/** Host-side result of the reference slot assignment. @internal */
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
 * The slot assignment on host arrays: K-major (every first choice before any second choice) or
 * token-major (each token's choices together), tokens in `order`, a pair kept while its expert has a
 * free slot. `expertIndex` is `[T, K]` row-major.
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
  slotOrder: SlotOrder = 'choiceMajor',
): HostSlotAssignment {
  const slot = new Int32Array(numTokens * k).fill(-1);
  const load = new Int32Array(numExperts);
  const needed = new Int32Array(numExperts);
  const position = new Int32Array(numExperts); // next position per expert, counting dropped pairs
  let droppedCount = 0;
  const place = (t: number, choice: number) => {
    const e = expertIndex[t * k + choice]!;
    if (e < 0) return;
    needed[e]! += 1;
    const p = position[e]!;
    position[e] = p + 1;
    if (p < capacity) {
      slot[t * k + choice] = p;
      load[e]! += 1;
    } else {
      droppedCount++;
    }
  };
  if (slotOrder === 'tokenMajor') {
    // one running count per expert, token after token (DeepSpeed topkgating, drop_policy 'position')
    for (let i = 0; i < numTokens; i++) for (let choice = 0; choice < k; choice++) place(order === null ? i : order[i]!, choice);
  } else {
    for (let choice = 0; choice < k; choice++) {
      if (choice > 0 && secondChoiceOffset === 'kept') position.set(load);
      for (let i = 0; i < numTokens; i++) place(order === null ? i : order[i]!, choice);
    }
  }
  return { slot, load, needed, droppedCount };
}

/**
 * The pairs each expert keeps by pair score (DeepSpeed `drop_policy='probs'`) on host arrays: per expert
 * the `capacity` pairs of highest score, ties to the earlier pair; returns `expertIndex` with every
 * other pair set to -1 (unused). @internal
 */
export function keepByPairPriority(expertIndex: Int32Array, pairPriority: ArrayLike<number>, numExperts: number, capacity: number): Int32Array {
  const pairs = Array.from({ length: expertIndex.length }, (_, i) => i).sort((a, b) => pairPriority[b]! - pairPriority[a]! || a - b);
  const taken = new Int32Array(numExperts);
  const kept = new Int32Array(expertIndex.length).fill(-1);
  for (const i of pairs) {
    const e = expertIndex[i]!;
    if (e < 0 || taken[e]! >= capacity) continue;
    taken[e]! += 1;
    kept[i] = e;
  }
  return kept;
}

