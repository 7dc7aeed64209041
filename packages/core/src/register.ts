// Registers MoELayer, GatedRouter and LinearGate with tfjs's serialisation registry, so tf.loadLayersModel restores models that
// hold it. Imported by index.ts; listed in package.json sideEffects.
import * as tf from '@tensorflow/tfjs-core';
import { GatedRouter } from './gated-router.js';
import { MoELayer } from './layers/moe-layer.js';
import { LinearGate } from './linear-gate.js';

tf.serialization.registerClass(MoELayer);
tf.serialization.registerClass(GatedRouter);
tf.serialization.registerClass(LinearGate);
