// Registers this package's routing algorithms, gates and routers with tfjs's serialisation registry.
// Imported by index.ts; listed in package.json sideEffects.
import * as tf from '@tensorflow/tfjs-core';
import { BalancedAssignment } from './balanced-assignment.js';
import { ExpertChoice } from './expert-choice.js';
import { HashRouter } from './hash-router.js';
import { SoftMoE } from './soft-moe.js';
import { SoftMoEGate } from './soft-moe-gate.js';

tf.serialization.registerClass(ExpertChoice);
tf.serialization.registerClass(SoftMoE);
tf.serialization.registerClass(SoftMoEGate);
tf.serialization.registerClass(BalancedAssignment);
tf.serialization.registerClass(HashRouter);
