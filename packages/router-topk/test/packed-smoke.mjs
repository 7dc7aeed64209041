// Runs in a scratch project where the packages were installed from their npm tarballs.
import * as tf from '@tensorflow/tfjs';
import { MixtureOfExperts } from '@moekit/core';
import { LinearExpertBank } from '@moekit/core/testing';
import { HierarchicalTopKRouter, TopKRouter, shazeerLoad } from '@moekit/router-topk';

await tf.setBackend('cpu');
const moe = new MixtureOfExperts({ router: new TopKRouter({ numExperts: 4, k: 2, seed: 1 }), experts: new LinearExpertBank({ numExperts: 4, inputDim: 8 }) });
const { output, auxLosses } = moe.apply(tf.randomNormal([32, 8]), { training: true });
const hierarchical = new HierarchicalTopKRouter({ numGroups: 2, expertsPerGroup: 2, inputDim: 8 });
const registered = tf.serialization.SerializationMap.getMap().classNameMap;
if (output.shape.join() !== '32,8' || !('load' in auxLosses) || !registered.TopKRouter || !registered.HierarchicalTopKRouter || typeof shazeerLoad !== 'function') {
  throw new Error('router-topk packed install is broken');
}
hierarchical.dispose();
console.log(`TopKRouter routed 32 tokens, aux parts ${Object.keys(auxLosses).join(', ')}; classes registered`);
