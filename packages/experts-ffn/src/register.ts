// Registers the expert classes with moekit's component registry (and tfjs's serialisation registry). Imported by index.ts; listed in package.json sideEffects.
import * as tf from '@tensorflow/tfjs-core';
import { registerComponent } from '@moekit/core';
import { FeedForwardExperts } from './feed-forward-experts.js';
import { SharedExpert } from './shared-expert.js';
import { ConditionalMoEBranch } from './conditional-moe-branch.js';
import { ShortcutMoEBlock } from './shortcut-moe-block.js';
import { TransformerMoEBlock } from './transformer-moe-block.js';

registerComponent(FeedForwardExperts, '@moekit/experts-ffn');
registerComponent(SharedExpert, '@moekit/experts-ffn');
registerComponent(ConditionalMoEBranch, '@moekit/experts-ffn');
tf.serialization.registerClass(TransformerMoEBlock); // a tfjs-layers Layer, not a component
tf.serialization.registerClass(ShortcutMoEBlock); // a tfjs-layers Layer, not a component
