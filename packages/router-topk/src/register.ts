// Registers the router, gate and routing-algorithm classes with tfjs's serialisation registry, so models that hold them can be
// saved and restored (`tf.loadLayersModel`). Imported by index.ts; listed in package.json sideEffects.
import * as tf from '@tensorflow/tfjs-core';
import { CosineGate } from './cosine-gate.js';
import { HierarchicalTopKRouter } from './hierarchical-top-k-router.js';
import { TopKChoice } from './top-k-choice.js';
import { TopKRouter } from './top-k-router.js';

tf.serialization.registerClass(TopKRouter);
tf.serialization.registerClass(HierarchicalTopKRouter);
tf.serialization.registerClass(CosineGate);
tf.serialization.registerClass(TopKChoice);
