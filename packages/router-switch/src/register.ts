// Registers SwitchRouter with tfjs's serialisation registry. Imported by index.ts; listed in package.json sideEffects.
import * as tf from '@tensorflow/tfjs-core';
import { SwitchRouter } from './switch-router.js';

tf.serialization.registerClass(SwitchRouter);
