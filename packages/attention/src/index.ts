/**
 * `@moekit/attention`: mixture of attention heads — {@link MixtureOfAttentionHeads} (MoA, Zhang et al.
 * 2022: routed per-expert query and output projections over shared keys and values, with any moekit
 * token-choice router and its aux losses), {@link jetMoERouter} and the JetMoE decoder block
 * {@link JetMoEBlock} (MoA + a sparse SwiGLU MoE FFN, Shen et al. 2024).
 *
 * @module @moekit/attention
 */
import './register.js';

export { MixtureOfAttentionHeads, type MixtureOfAttentionHeadsArgs, type MixtureOfAttentionHeadsConfig, type MixtureOfAttentionHeadsOutput } from './mixture-of-attention-heads.js';
export { jetMoERouter, type JetMoERouterOptions } from './jetmoe-router.js';
export { JetMoEBlock, type JetMoEBlockArgs, type JetMoEBlockConfig, type JetMoEBlockOutput } from './jetmoe-block.js';
