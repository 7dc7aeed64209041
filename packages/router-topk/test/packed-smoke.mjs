// Runs in a scratch project where the packages were installed from their npm tarballs.
import * as tf from '@tensorflow/tfjs';
import { GatedRouter, MixtureOfExperts } from '@moekit/core';
import { LinearExpertBank } from '@moekit/core/testing';
import { AuxLossFreeBias, CosineGate, HierarchicalTopKRouter, TopKChoice, TopKRouter, shazeerLoad } from '@moekit/router-topk';

await tf.setBackend('cpu');
const moe = new MixtureOfExperts({ router: new TopKRouter({ numExperts: 4, k: 2, seed: 1 }), experts: new LinearExpertBank({ numExperts: 4, inputDim: 8 }) });
const { output, auxLosses } = moe.apply(tf.randomNormal([32, 8]), { training: true });
const hierarchical = new HierarchicalTopKRouter({ numGroups: 2, expertsPerGroup: 2, inputDim: 8 });
// X-MoE's cosine gate with DeepSeek-V3's sigmoid top-k and aux-loss-free balancing, through core's GatedRouter
const algorithm = new TopKChoice({ numExperts: 4, k: 2, gating: 'sigmoid', biasUpdateRate: 0.01 });
const gated = new MixtureOfExperts({ router: new GatedRouter({ gate: new CosineGate({ numOutputs: 4, seed: 1 }), algorithm }), experts: new LinearExpertBank({ numExperts: 4, inputDim: 8 }), layout: 'padded' });
const routed = gated.apply(tf.randomNormal([32, 8]), { training: true });
const bias = Array.from(algorithm.expertBias.dataSync());
const restored = GatedRouter.fromConfig(GatedRouter, gated.router.getConfig());
const registered = tf.serialization.SerializationMap.getMap().classNameMap;
if (
  output.shape.join() !== '32,8' || !('load' in auxLosses) || !registered.TopKRouter || !registered.HierarchicalTopKRouter || typeof shazeerLoad !== 'function'
  || routed.output.shape.join() !== '32,8' || !('loadBalancing' in routed.auxLosses) || bias.every((b) => b === 0) || typeof AuxLossFreeBias !== 'function'
  || !registered.CosineGate || !registered.TopKChoice || JSON.stringify(Array.from(restored.algorithm.expertBias.dataSync())) !== JSON.stringify(bias)
) {
  throw new Error('router-topk packed install is broken');
}
hierarchical.dispose();
restored.dispose();
console.log(`TopKRouter routed 32 tokens, aux parts ${Object.keys(auxLosses).join(', ')}; CosineGate + TopKChoice routed 32 tokens, bias [${bias.map((b) => b.toFixed(2)).join(', ')}]; classes registered`);
