/**
 * The capacity conventions of five MoE libraries, each reproducing that library's published
 * arithmetic exactly (operation order and float precision included), so a model ported from one
 * of them drops exactly the tokens it dropped there. `T` tokens, `E` experts, `k` choices, `f` factor.
 */

/** One library's capacity convention, used through `computeCapacity({ preset })`. */
export interface CapacityPreset {
  /** The library and file the arithmetic is copied from. */
  readonly source: string;
  /**
   * Capacity for a positive factor `f`, before `minCapacity` and `multipleOf` (the library's own
   * operation order). May return 0 where the library falls back to dropless ({@link droplessWhenZero}).
   */
  bound(numTokens: number, numExperts: number, k: number, capacityFactor: number): number;
  /** Round the capacity up to a multiple of this (Tutel's `alignment`, V-MoE's `multiple_of`). */
  readonly multipleOf: number;
  /** Lower bound applied to a positive-factor capacity (DeepSpeed's and lucidrains' minimum). */
  readonly minCapacity: number;
  /** Upper bound of a positive-factor capacity at the token count, before `minCapacity` (lucidrains). */
  readonly capAtNumTokens: boolean;
  /** A positive-factor capacity of 0 becomes dropless instead of an error (MegaBlocks). */
  readonly droplessWhenZero: boolean;
  /** Whether the library accepts factor ≤ 0 (dropless; Tutel's negative factor). */
  readonly supportsDropless: boolean;
}

/** Names of the built-in presets. */
export type CapacityPresetName = 'tutel' | 'deepspeed' | 'vmoe' | 'megablocks' | 'lucidrains';

/** The capacity conventions of Tutel, DeepSpeed, V-MoE, MegaBlocks and lucidrains' ST-MoE. */
export const capacityPresets: Readonly<Record<CapacityPresetName, CapacityPreset>> = {
  /**
   * Tutel `tutel/impls/fast_dispatch.py` `extract_critical`:
   * `samples_per_expert = (T + E - 1) // E; capacity = top_k * int(f * samples_per_expert)` with
   * `top_k = min(k, E)`; `f = 0` → the largest per-expert count; `f < 0` → `min(that, top_k * int(-f * samples_per_expert))`;
   * then rounded up to `alignment` (1 by default).
   */
  tutel: {
    source: 'microsoft/tutel tutel/impls/fast_dispatch.py extract_critical',
    bound: (T, E, k, f) => Math.min(k, E) * Math.trunc(f * Math.floor((T + E - 1) / E)),
    multipleOf: 1,
    minCapacity: 0,
    capAtNumTokens: false,
    droplessWhenZero: false,
    supportsDropless: true,
  },
  /**
   * DeepSpeed `deepspeed/moe/sharded_moe.py` `_capacity`: `ceil((T / E) * capacity_factor)` evaluated
   * in float32 (a float32 0-dim tensor times a Python float), where top-k gating passes
   * `capacity_factor * k`; at least `min_capacity` (4 in `deepspeed.moe.layer.MoE`). `drop_tokens=False`
   * uses the largest per-expert count.
   */
  deepspeed: {
    source: 'microsoft/DeepSpeed deepspeed/moe/sharded_moe.py _capacity',
    bound: (T, E, k, f) => Math.ceil(Math.fround(Math.fround(T / E) * Math.fround(f * k))),
    multipleOf: 1,
    minCapacity: 4,
    capAtNumTokens: false,
    droplessWhenZero: false,
    supportsDropless: true,
  },
  /**
   * V-MoE `vmoe/moe.py` `compute_capacity`, called with `num_tokens = group_size * num_selected_experts`:
   * `ceil(num_tokens * capacity_factor / num_experts)`, then rounded up to `multiple_of = 4`;
   * a capacity below 1 is an error.
   */
  vmoe: {
    source: 'google-research/vmoe vmoe/moe.py compute_capacity',
    bound: (T, E, k, f) => Math.ceil((T * k * f) / E),
    multipleOf: 4,
    minCapacity: 0,
    capAtNumTokens: false,
    droplessWhenZero: false,
    supportsDropless: false,
  },
  /**
   * MegaBlocks `megablocks/layers/moe.py` `ParallelMLP.expert_capacity` (one expert-parallel rank):
   * `int(moe_capacity_factor * (top_k * tokens / num_experts))`; a capacity of 0 falls back to the
   * largest per-expert count.
   */
  megablocks: {
    source: 'databricks/megablocks megablocks/layers/moe.py expert_capacity',
    bound: (T, E, k, f) => Math.trunc(f * ((k * T) / E)),
    multipleOf: 1,
    minCapacity: 0,
    capAtNumTokens: false,
    droplessWhenZero: true,
    supportsDropless: true,
  },
  /**
   * lucidrains `st_moe_pytorch/st_moe_pytorch.py` `TopNGating` (same in `mixture-of-experts`):
   * `max(min(group_size, int(group_size * capacity_factor / num_gates)), MIN_EXPERT_CAPACITY = 4)`;
   * not multiplied by k: every choice shares the one buffer.
   */
  lucidrains: {
    source: 'lucidrains/st-moe-pytorch st_moe_pytorch/st_moe_pytorch.py TopNGating',
    bound: (T, E, _k, f) => Math.trunc((T * f) / E),
    multipleOf: 1,
    minCapacity: 4,
    capAtNumTokens: true,
    droplessWhenZero: false,
    supportsDropless: false,
  },
};
