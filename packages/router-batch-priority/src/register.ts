// Registers BatchPriorityRouter with tfjs's serialisation registry. Imported by index.ts; listed in package.json sideEffects.
import * as tf from '@tensorflow/tfjs-core';
import { BatchPriorityRouter } from './batch-priority-router.js';

tf.serialization.registerClass(BatchPriorityRouter);
