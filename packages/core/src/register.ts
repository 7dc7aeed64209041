// Registers core's components (and, until the layers entry point exists, MoELayer) so saved models
// that hold them load. Imported by index.ts; listed in package.json sideEffects.
import * as tf from '@tensorflow/tfjs-core';
import { registerComponent } from './components/component-registry.js';
import { GatedRouter } from './gated-router.js';
import { MoELayer } from './layers/moe-layer.js';
import { LinearGate } from './linear-gate.js';

tf.serialization.registerClass(MoELayer);
registerComponent(GatedRouter, '@moekit/core');
registerComponent(LinearGate, '@moekit/core');
