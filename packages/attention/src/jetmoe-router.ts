import { GatedRouter, LinearGate } from '@moekit/core';
import { TopKChoice } from '@moekit/router-topk';

/** Options of {@link jetMoERouter}. */
export interface JetMoERouterOptions {
  /** Experts `E`. */
  numExperts: number;
  /** Experts per token `K`. */
  k: number;
  /** Router input width `D` (builds the gate now). */
  inputDim?: number;
  /** Weight of the load-balancing loss in the router's `auxLosses.total`. Default 0.01 (JetMoE's `aux_loss_coef`). */
  loadBalancingWeight?: number;
  /** Seed of the gate's initialiser. */
  seed?: number;
}

/**
 * JetMoE's router (Shen et al. 2024, "JetMoE", §2 / Eq. 3–4, https://arxiv.org/abs/2404.07413;
 * `myshell-ai/JetMoE` `jetmoe/utils/gate.py` `top_k_gating`, commit 235392e9): a bias-free linear gate,
 * the top-`k` logits, their softmax as the gates (`softmax(top_k(x·W_g))`, Shazeer et al. 2017 Eq. 3),
 * and the frequency-based load-balancing loss `E · Σ_i f_i · P_i` with `f_i` counting every one of the
 * `T·K` choices (`F.normalize(freq, p=1)`, core's `'deepspeed'` convention) — as moekit's
 * `GatedRouter(LinearGate, TopKChoice({ gates: 'topKSoftmax', loadBalancingConvention: 'deepspeed' }))`.
 * The z-loss JetMoE adds (`0.1 · zloss` inside the gate's loss, i.e. 0.001 overall) is the layer's
 * (`zLossWeight` of {@link MixtureOfAttentionHeads} and {@link JetMoEBlock}), so any router gets it.
 *
 * @example
 * ```ts
 * const router = jetMoERouter({ numExperts: 8, k: 2, inputDim: 64, seed: 1 });
 * ```
 */
export function jetMoERouter(options: JetMoERouterOptions): GatedRouter {
  const { numExperts, k, inputDim, loadBalancingWeight = 0.01, seed } = options;
  return new GatedRouter({
    gate: new LinearGate({ numOutputs: numExperts, ...(inputDim === undefined ? {} : { inputDim }), ...(seed === undefined ? {} : { seed }) }),
    algorithm: new TopKChoice({ numExperts, k, gates: 'topKSoftmax', loadBalancingWeight, loadBalancingConvention: 'deepspeed' }),
  });
}
