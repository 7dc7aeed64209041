// Runs in a scratch project where the packages were installed from their npm tarballs.
import * as tf from '@tensorflow/tfjs';
import { MixtureOfExperts } from '@moekit/core';
import { LinearExpertBank } from '@moekit/core/testing';
import { SwitchRouter } from '@moekit/router-switch';

await tf.setBackend('cpu');
const moe = new MixtureOfExperts({ router: new SwitchRouter({ numExperts: 4, zLossWeight: 1e-3, seed: 1 }), experts: new LinearExpertBank({ numExperts: 4, inputDim: 8 }) });
const { output, auxLosses, metrics } = moe.apply(tf.randomNormal([32, 8]), { training: true });
if (output.shape.join() !== '32,8' || metrics.capacity !== 10 || !('zLoss' in auxLosses) || !tf.serialization.SerializationMap.getMap().classNameMap.SwitchRouter) {
  throw new Error('router-switch packed install is broken');
}
console.log(`SwitchRouter routed 32 tokens with capacity ${metrics.capacity}; class registered`);
