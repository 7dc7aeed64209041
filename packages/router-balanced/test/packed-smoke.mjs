// Runs in a scratch project where the packages were installed from their npm tarballs.
import * as tf from '@tensorflow/tfjs';
import { MixtureOfExperts } from '@moekit/core';
import { LinearExpertBank } from '@moekit/core/testing';
import * as balanced from '@moekit/router-balanced';

await tf.setBackend('cpu');
const registered = tf.serialization.SerializationMap.getMap().classNameMap;

// expert choice and Soft MoE: 32 tokens, 4 experts
{
  const routers = [
    ['ExpertChoice', balanced.expertChoiceRouter({ numExperts: 4, seed: 1 }), 16], // C = 2·32/4
    ['SoftMoE', balanced.softMoERouter({ numExperts: 4, slotsPerExpert: 2, groupSize: 8, seed: 1 }), 8], // (32 / 8)·2 slots
  ];
  for (const [name, router, capacity] of routers) {
    const moe = new MixtureOfExperts({ router, experts: new LinearExpertBank({ numExperts: 4, inputDim: 8 }) });
    const { output, metrics } = moe.apply(tf.randomNormal([32, 8]), { training: true });
    if (output.shape.join() !== '32,8' || metrics.capacity !== capacity || metrics.load.join() !== [capacity, capacity, capacity, capacity].join() || !registered[name]) {
      throw new Error(`router-balanced packed install is broken (${name})`);
    }
    console.log(`${name} routed 32 tokens with capacity ${metrics.capacity}; class registered`);
  }
  if (!registered.SoftMoEGate) throw new Error('router-balanced packed install is broken (SoftMoEGate not registered)');
}

// --- BASE balanced assignment and hash routing (self-contained block: concatenates with other sections) ---
{
  const tf = await import('@tensorflow/tfjs');
  const { MixtureOfExperts } = await import('@moekit/core');
  const { LinearExpertBank } = await import('@moekit/core/testing');
  const { balancedAssignmentRouter, HashRouter } = await import('@moekit/router-balanced');
  await tf.setBackend('cpu');
  const base = new MixtureOfExperts({ router: balancedAssignmentRouter({ numExperts: 4, inputDim: 8, seed: 1 }), experts: new LinearExpertBank({ numExperts: 4, inputDim: 8 }) });
  const trained = base.apply(tf.randomNormal([32, 8]), { training: true });
  const hash = new MixtureOfExperts({ router: new HashRouter({ numExperts: 4, vocabSize: 16, table: 'balanced', seed: 1 }), experts: new LinearExpertBank({ numExperts: 4, inputDim: 8 }) });
  const hashed = hash.apply(tf.randomNormal([32, 8]), { training: true, gateInput: tf.tensor2d(Array.from({ length: 32 }, (_, t) => [t % 16]), [32, 1], 'int32') });
  const classes = tf.serialization.SerializationMap.getMap().classNameMap;
  if (trained.output.shape.join() !== '32,8' || trained.metrics.load.join() !== '8,8,8,8' || hashed.metrics.load.join() !== '8,8,8,8' || !classes.BalancedAssignment || !classes.HashRouter) {
    throw new Error('router-balanced (BASE, hash) packed install is broken');
  }
  console.log(`BASE routed 32 tokens as ${trained.metrics.load.join('/')}, hash as ${hashed.metrics.load.join('/')}; BalancedAssignment and HashRouter registered`);
}
