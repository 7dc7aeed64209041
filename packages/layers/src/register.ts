// Registers MoELayer with tfjs's serialisation registry, so tf.loadLayersModel restores models that
// hold it, and LayersModelExperts with moekit's component registry. Imported by index.ts; listed in
// package.json sideEffects.
import * as tf from '@tensorflow/tfjs-core';
import { registerComponent } from '@moekit/core';
import { LayersModelExperts } from './layers-model-experts.js';
import { MoELayer } from './moe-layer.js';

tf.serialization.registerClass(MoELayer);
registerComponent(LayersModelExperts, '@moekit/layers');
