// Registers the attention components with moekit's component registry (and tfjs's). Imported by index.ts; listed in package.json sideEffects.
import { registerComponent } from '@moekit/core';
import { JetMoEBlock } from './jetmoe-block.js';
import { MixtureOfAttentionHeads } from './mixture-of-attention-heads.js';

for (const cls of [MixtureOfAttentionHeads, JetMoEBlock]) registerComponent(cls, '@moekit/attention');
