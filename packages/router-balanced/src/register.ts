// Registers this package's routing algorithms with tfjs's serialisation registry. Imported by
// index.ts; listed in package.json sideEffects.
import * as tf from '@tensorflow/tfjs-core';

void tf;

// BASE layers' balanced assignment
import { BalancedAssignment } from './balanced-assignment.js';

tf.serialization.registerClass(BalancedAssignment);

// Hash layers
import { HashRouter } from './hash-router.js';

tf.serialization.registerClass(HashRouter);
