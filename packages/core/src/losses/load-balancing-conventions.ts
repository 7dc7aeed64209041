/**
 * The load-balancing-loss conventions of three MoE libraries, each reproducing that library's
 * published arithmetic, so an aux loss ported from one of them has the same value (and scale) here.
 * All are `E · Σ_i f_i · P_i / n` (Fedus et al. 2021, arXiv:2101.03961, Eqs. 4-6) with `P_i` the mean
 * router probability of expert `i`; they differ in which of a token's `K` choices the fraction `f_i`
 * counts and in the divisor `n`. `T` tokens, `E` experts, `K` choices.
 */

/** Which of a token's choices the fraction `f_i` counts: the first only, or all `K`. */
export type CountedChoices = 'first' | 'all';

/** One library's load-balancing convention, used through `loadBalancingLoss(…, { convention })`. */
export interface LoadBalancingConvention {
  /** The library and file the arithmetic is copied from. */
  readonly source: string;
  /** `'first'`: `f_i` = share of tokens whose first choice is `i`; `'all'`: share of (token, choice) pairs for `i`, over `T` (sums to `K`). */
  readonly countedChoices: CountedChoices;
  /** Divide the loss by `K`, so that it is 1 at perfect balance whatever `K` (DeepSpeed). */
  readonly divideByK: boolean;
}

/** Names of the built-in conventions. */
export type LoadBalancingConventionName = 'switch' | 'deepspeed' | 'mixtral';

/** The load-balancing conventions of the Switch paper (moekit's default), DeepSpeed and HF Mixtral. */
export const loadBalancingConventions: Readonly<Record<LoadBalancingConventionName, LoadBalancingConvention>> = {
  /**
   * The Switch Transformer paper (Fedus et al. 2021, Eq. 4): `E · Σ f_i · P_i`, `f` over first choices;
   * 1 at perfect balance. moekit's default. HF `switch_transformers` `load_balancing_loss_func` is this
   * with `numGroups` = its batch size (a mean of per-group losses; its routers choose one expert).
   */
  switch: {
    source: 'Fedus et al. 2021 (arXiv:2101.03961) Eq. 4; huggingface/transformers models/switch_transformers/modeling_switch_transformers.py load_balancing_loss_func',
    countedChoices: 'first',
    divideByK: false,
  },
  /**
   * DeepSpeed `deepspeed/moe/sharded_moe.py` `topkgating` (the k ≥ 3 path):
   * `mean(me · ce) · E² / k` with `ce` the mean of the mask of all `k` choices, i.e. `E/K · Σ f_i · P_i`
   * with `f` over all pairs; 1 at perfect balance; equals `'switch'` at `K = 1` (`top1gating`).
   * (DeepSpeed's `top2gating` counts the first choice only, as `'switch'`.)
   * Megatron-Core's `switch_load_balancing_loss_func` (`--moe-router-load-balancing-type aux_loss`,
   * `megatron/core/transformer/moe/moe_utils.py`) is the same value: `Σ_i (Σ_t p_ti) · c_i · E / (K · T²)`
   * with `c_i` the pairs routed to `i`.
   */
  deepspeed: {
    source: 'microsoft/DeepSpeed deepspeed/moe/sharded_moe.py topkgating',
    countedChoices: 'all',
    divideByK: true,
  },
  /**
   * HF transformers `models/mixtral/modeling_mixtral.py` `load_balancing_loss_func`:
   * `E · Σ_k Σ_i f_ki · P_i` with `f_ki` the share of tokens whose `k`-th choice is `i`, i.e. `f` over
   * all pairs, not divided: `K` at perfect balance. Mixtral concatenates every layer's gate logits and
   * computes one loss; moekit computes one per layer, and the losses summed over layers differ from that
   * pooling (see the core README).
   */
  mixtral: {
    source: 'huggingface/transformers src/transformers/models/mixtral/modeling_mixtral.py load_balancing_loss_func',
    countedChoices: 'all',
    divideByK: false,
  },
};
