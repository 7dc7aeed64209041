// Registers the transformer components with moekit's component registry (and tfjs's). Imported by index.ts; listed in package.json sideEffects.
import { registerComponent } from '@moekit/core';
import { GroupedQueryAttention } from './grouped-query-attention.js';
import { MixtralCausalLM } from './mixtral-causal-lm.js';
import { MixtralDecoderLayer } from './mixtral-decoder-layer.js';
import { RMSNorm } from './rms-norm.js';
import { RotaryEmbedding } from './rotary-embedding.js';

for (const cls of [RMSNorm, RotaryEmbedding, GroupedQueryAttention, MixtralDecoderLayer, MixtralCausalLM]) registerComponent(cls, '@moekit/transformer');
