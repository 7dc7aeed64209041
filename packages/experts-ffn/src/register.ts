// Registers the expert classes with tfjs's serialisation registry. Imported by index.ts; listed in package.json sideEffects.
import * as tf from '@tensorflow/tfjs-core';
import { FeedForwardExperts } from './feed-forward-experts.js';
import { SharedExpert } from './shared-expert.js';
import { TransformerMoEBlock } from './transformer-moe-block.js';

tf.serialization.registerClass(FeedForwardExperts);
tf.serialization.registerClass(SharedExpert);
tf.serialization.registerClass(TransformerMoEBlock);
