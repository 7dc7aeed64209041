// Runs in a scratch project where the packages were installed from their npm tarballs.
import * as tf from '@tensorflow/tfjs';
import { MixtureOfExperts } from '@moekit/core';
import { LinearTopKRouter } from '@moekit/core/testing';
import { FeedForwardExperts, SharedExpert, upcycleDense } from '@moekit/experts-ffn';

await tf.setBackend('cpu');
const moe = new MixtureOfExperts({
  router: new LinearTopKRouter({ inputDim: 8, numExperts: 4, k: 2 }),
  experts: new FeedForwardExperts({ numExperts: 4, inputDim: 8, hiddenDim: 16, gated: 'swiglu', seed: 1 }),
  shared: new SharedExpert({ inputDim: 8, hiddenDim: 16 }),
});
const { grads } = tf.variableGrads(() => tf.mean(tf.square(moe.apply(tf.randomNormal([32, 8]), { training: true }).output)));
if (Object.keys(grads).length !== 1 + 6 + 4 || typeof upcycleDense !== 'function' || !tf.serialization.SerializationMap.getMap().classNameMap.FeedForwardExperts) {
  throw new Error(`experts-ffn packed install is broken (${Object.keys(grads).length} gradients)`);
}
console.log(`SwiGLU experts + shared expert trained one step, ${Object.keys(grads).length} gradients`);
