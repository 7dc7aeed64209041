// Runs in a scratch project where the packages were installed from their npm tarballs.
import { execFileSync } from 'node:child_process';
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

// Issue 16: a functional user who installs a router never loads tfjs-layers. A fresh Node process records
// every module the import resolves (a module.register resolve hook) while importing only the router.
const hook = 'let port; export function initialize(data) { port = data.port; } export async function resolve(specifier, context, next) { const r = await next(specifier, context); port.postMessage(r.url); return r; }';
const probe = `
import { register } from 'node:module';
import { MessageChannel } from 'node:worker_threads';
const { port1, port2 } = new MessageChannel();
const seen = new Set();
port1.on('message', (url) => seen.add(url));
register('data:text/javascript,' + encodeURIComponent(${JSON.stringify(hook)}), { data: { port: port2 }, transferList: [port2] });
await import('@moekit/router-topk');
await new Promise((resolve) => setTimeout(resolve, 200));
port1.close();
const packages = [...seen].filter((u) => u.includes('/node_modules/')).map((u) => u.split('/node_modules/').pop().split('/').slice(0, 2).join('/'));
console.log(JSON.stringify([...new Set(packages)].sort()));`;
const loaded = JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', probe], { encoding: 'utf8' }));
if (!loaded.includes('@moekit/router-topk') || !loaded.includes('@moekit/core') || loaded.some((p) => p.includes('tfjs-layers') || p === '@moekit/layers')) {
  throw new Error(`import '@moekit/router-topk' loaded ${loaded.join(', ')}: tfjs-layers must not be among them`);
}
console.log(`import '@moekit/router-topk' loads ${loaded.join(', ')} (no tfjs-layers)`);
