// Registers the test components with tfjs's serialisation registry, so models holding them save and
// load. Imported by testing/index.ts; listed in package.json sideEffects.
import * as tf from '@tensorflow/tfjs-core';
import { LinearExpertBank } from './linear-expert-bank.js';
import { LinearTopKRouter } from './linear-top-k-router.js';

tf.serialization.registerClass(LinearTopKRouter);
tf.serialization.registerClass(LinearExpertBank);
