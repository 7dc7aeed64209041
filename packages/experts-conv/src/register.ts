// Registers the serialisable classes with tfjs's registry, so models holding them can be saved and
// restored. Imported by index.ts; listed in package.json sideEffects.
import * as tf from '@tensorflow/tfjs-core';
import { ConvExperts } from './conv-experts.js';

tf.serialization.registerClass(ConvExperts);
