/**
 * `@moekit/transformer`: transformer building blocks and a Mixtral-style decoder — {@link RMSNorm},
 * {@link RotaryEmbedding}, {@link GroupedQueryAttention}, the sparse-MoE {@link MixtralDecoderLayer} and
 * the {@link MixtralCausalLM} language model (logits, training loss, greedy generation), whose weights
 * map one to one onto a Hugging Face `MixtralForCausalLM` checkpoint (`@moekit/hf`).
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
