// Registers this package's routing algorithms with tfjs's serialisation registry. Imported by
// index.ts; listed in package.json sideEffects.
import * as tf from '@tensorflow/tfjs-core';

void tf;
import { ExpertChoice } from './expert-choice.js';
tf.serialization.registerClass(ExpertChoice);
import { SoftMoE } from './soft-moe.js';
import { SoftMoEGate } from './soft-moe-gate.js';
tf.serialization.registerClass(SoftMoE);
tf.serialization.registerClass(SoftMoEGate);
