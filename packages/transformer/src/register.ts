// Registers the transformer components with moekit's component registry (and tfjs's). Imported by index.ts; listed in package.json sideEffects.
import { registerComponent } from '@moekit/core';
import { GroupedQueryAttention } from './grouped-query-attention.js';
import { MixtralCausalLM } from './mixtral-causal-lm.js';
import { MixtralDecoderLayer } from './mixtral-decoder-layer.js';
import { FourierTokenMixing } from './fourier-token-mixing.js';
import { LayerNorm } from './layer-norm.js';
import { LinearTokenMixing } from './linear-token-mixing.js';
import { RMSNorm } from './rms-norm.js';
import { SparseMixerBlock } from './sparse-mixer-block.js';
import { RotaryEmbedding } from './rotary-embedding.js';

for (const cls of [RMSNorm, RotaryEmbedding, GroupedQueryAttention, MixtralDecoderLayer, MixtralCausalLM, LayerNorm, FourierTokenMixing, LinearTokenMixing, SparseMixerBlock]) registerComponent(cls, '@moekit/transformer');
