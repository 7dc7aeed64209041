// Registers the hash-grid classes with tfjs's serialisation registry. Imported by index.ts; listed in package.json sideEffects.
import * as tf from '@tensorflow/tfjs-core';
import { HashGate } from './hash-gate.js';
import { HashGridEncoding } from './hash-grid-encoding.js';
import { HashGridExperts } from './hash-grid-experts.js';

tf.serialization.registerClass(HashGridEncoding);
tf.serialization.registerClass(HashGate);
tf.serialization.registerClass(HashGridExperts);
