// Runs in a scratch project where the packages were installed from their npm tarballs.
import * as tf from '@tensorflow/tfjs';
import { MixtureOfExperts } from '@moekit/core';
import { LinearExpertBank, LinearTopKRouter } from '@moekit/core/testing';
import { BatchPriorityRouter, capacitySweep } from '@moekit/router-batch-priority';

await tf.setBackend('cpu');
const router = new BatchPriorityRouter({ router: new LinearTopKRouter({ inputDim: 8, numExperts: 4, k: 2 }) });
const moe = new MixtureOfExperts({ router, experts: new LinearExpertBank({ numExperts: 4, inputDim: 8 }), capacity: { eval: 0.5 } });
const { metrics } = moe.apply(tf.randomNormal([32, 8]), { training: false });
if (!(metrics.droppedFraction > 0) || typeof capacitySweep !== 'function' || !tf.serialization.SerializationMap.getMap().classNameMap.BatchPriorityRouter) {
  throw new Error('router-batch-priority packed install is broken');
}
console.log(`BPR routed 32 tokens, dropped ${(100 * metrics.droppedFraction).toFixed(0)}% at capacity ratio 0.5; class registered`);
