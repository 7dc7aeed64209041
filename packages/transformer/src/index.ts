/**
 * `@moekit/transformer`: transformer building blocks and a Mixtral-style decoder — {@link RMSNorm},
 * {@link RotaryEmbedding}, {@link GroupedQueryAttention}, the sparse-MoE {@link MixtralDecoderLayer} and
 * the {@link MixtralCausalLM} language model (logits, training loss, greedy generation), whose weights
 * map one to one onto a Hugging Face `MixtralForCausalLM` checkpoint (`@moekit/hf`); and the Sparse Mixer
 * encoder block ({@link SparseMixerBlock}: {@link LinearTokenMixing} or FNet's {@link FourierTokenMixing}
 * in place of attention, a sparse MoE FFN, {@link LayerNorm}; layers placed by {@link sparseMixerLayout}).
 *
 * @module @moekit/transformer
 */
import './register.js';

export { RMSNorm, type RMSNormArgs } from './rms-norm.js';
export { RotaryEmbedding, type RotaryAngles, type RotaryEmbeddingArgs } from './rotary-embedding.js';
export { GroupedQueryAttention, type GroupedQueryAttentionArgs, type GroupedQueryAttentionConfig } from './grouped-query-attention.js';
export { MixtralDecoderLayer, mixtralLayerArgsTable, type MixtralDecoderLayerArgs, type MixtralDecoderLayerConfig, type MixtralDecoderLayerOutput } from './mixtral-decoder-layer.js';
export { mixtralLoadBalancingLoss } from './mixtral-load-balancing-loss.js';
export { MixtralCausalLM, type MixtralCausalLMArgs, type MixtralCausalLMConfig, type MixtralForwardOutput, type MixtralLoss } from './mixtral-causal-lm.js';
export { LayerNorm, type LayerNormArgs } from './layer-norm.js';
export { FourierTokenMixing, type FourierTokenMixingArgs } from './fourier-token-mixing.js';
export { LinearTokenMixing, type LinearTokenMixingArgs, type LinearTokenMixingConfig } from './linear-token-mixing.js';
export { SparseMixerBlock, type FeedForwardKind, type SparseMixerBlockArgs, type SparseMixerBlockConfig, type SparseMixerBlockOutput, type TokenMixingKind } from './sparse-mixer-block.js';
export { sparseMixerLayout, type LayerLayout, type SparseMixerLayerKind, type SparseMixerLayoutArgs } from './sparse-mixer-layout.js';
