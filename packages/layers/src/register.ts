// Registers MoELayer with tfjs's serialisation registry, so tf.loadLayersModel restores models that
// hold it. Imported by index.ts; listed in package.json sideEffects.
import * as tf from '@tensorflow/tfjs-core';
import { MoELayer } from './moe-layer.js';

tf.serialization.registerClass(MoELayer);
