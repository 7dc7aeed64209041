import * as tf from '@tensorflow/tfjs';
import fc from 'fast-check';
import { GatedRouter, LinearGate, type Router } from '@moekit/core';
import { MoELayer } from '@moekit/layers';
import { FeedForwardExperts, SharedExpert, type FeedForwardExpertsArgs } from '@moekit/experts-ffn';
import { HardConstraintRouter, SoftConstraintRouter } from '@moekit/experts-conv';
import { balancedAssignmentRouter, expertChoiceRouter, HashRouter, softMoERouter } from '@moekit/router-balanced';
import { BatchPriorityRouter } from '@moekit/router-batch-priority';
import { SwitchRouter } from '@moekit/router-switch';
import { CosineGate, HierarchicalTopKRouter, TopKChoice, TopKRouter } from '@moekit/router-topk';
import { describe, expect, it } from 'vitest';

// save → load is the identity for any model built from the registered components: a tf.sequential
// around an MoELayer (every router kind, every FFN bank variant, with or without a shared expert),
// its weights perturbed away from what the seeds draw (so a load that re-draws instead of restoring
// fails), saved to memory with tf.io.withSaveHandler and loaded back with tf.io.fromMemory. The file
// system is not involved (fileSystem has its own crash and concurrency tests in @moekit/platform).

/** Every router kind, built for E experts (E even), K ≤ E choices, seed s. */
const routerKinds: Record<string, (E: number, k: number, s: number) => Router> = {
  topK: (E, k, s) => new TopKRouter({ numExperts: E, k, noise: 'shazeer', seed: s }),
  hierarchical: (E, k, s) => new HierarchicalTopKRouter({ numGroups: 2, expertsPerGroup: E / 2, kExperts: Math.min(k, E / 2), seed: s }),
  switch: (E, _k, s) => new SwitchRouter({ numExperts: E, zLossWeight: 1e-3, seed: s }),
  batchPriority: (E, k, s) => new BatchPriorityRouter({ router: new TopKRouter({ numExperts: E, k, noise: 'gaussian', seed: s }) }),
  linearTopKChoice: (E, k, s) => new GatedRouter({ gate: new LinearGate({ numOutputs: E, seed: s }), algorithm: new TopKChoice({ numExperts: E, k, gating: 'sigmoid', biasUpdateRate: 1e-3 }) }),
  cosineTopKChoice: (E, k, s) => new GatedRouter({ gate: new CosineGate({ numOutputs: E, seed: s }), algorithm: new TopKChoice({ numExperts: E, k }) }),
  expertChoice: (E, _k, s) => expertChoiceRouter({ numExperts: E, seed: s }),
  softMoE: (E, _k, s) => softMoERouter({ numExperts: E, slotsPerExpert: 2, seed: s }),
  balancedAssignment: (E, _k, s) => balancedAssignmentRouter({ numExperts: E, seed: s }),
  hash: (E, _k, s) => new HashRouter({ numExperts: E, hashOf: 'featureBucket', bucketBits: 4, seed: s }),
  softConstraint: (E, k, s) => new SoftConstraintRouter({ router: new TopKRouter({ numExperts: E, k, seed: s }) }),
  hardConstraint: (E, k, s) => new HardConstraintRouter({ router: new TopKRouter({ numExperts: E, k, seed: s }) }),
};

const modelChoice = fc.record({
  router: fc.constantFrom(...Object.keys(routerKinds)),
  numExperts: fc.constantFrom(2, 4),
  k: fc.integer({ min: 1, max: 2 }),
  width: fc.integer({ min: 2, max: 6 }),
  hiddenDim: fc.integer({ min: 1, max: 5 }),
  gated: fc.constantFrom<NonNullable<FeedForwardExpertsArgs['gated']>>('none', 'swiglu', 'geglu'),
  activation: fc.constantFrom<NonNullable<FeedForwardExpertsArgs['activation']>>('relu', 'gelu', 'swish'),
  shared: fc.boolean(),
  numTokens: fc.integer({ min: 2, max: 8 }),
  seed: fc.integer({ min: 1, max: 1000 }),
});

async function roundTrip(model: tf.LayersModel): Promise<tf.LayersModel> {
  let saved: tf.io.ModelArtifacts | undefined;
  await model.save(tf.io.withSaveHandler(async (artifacts) => {
    saved = artifacts;
    return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
  }));
  // through JSON text, as a file would carry it: a config that only survives in memory fails here
  const topology = JSON.parse(JSON.stringify(saved!.modelTopology)) as object;
  return tf.loadLayersModel(tf.io.fromMemory({ ...saved!, modelTopology: topology }));
}

describe('save → load is the identity (property, every registered router and FFN bank)', () => {
  it('the loaded model has the same layer config, the same weights and the same predictions', async () => {
    await tf.setBackend('cpu');
    await fc.assert(
      fc.asyncProperty(modelChoice, async (m) => {
        const numBefore = tf.memory().numTensors;
        const k = Math.min(m.k, m.numExperts);
        const moe = new MoELayer({
          router: routerKinds[m.router]!(m.numExperts, k, m.seed),
          experts: new FeedForwardExperts({ numExperts: m.numExperts, hiddenDim: m.hiddenDim, gated: m.gated, activation: m.activation, seed: m.seed + 1 }),
          ...(m.shared ? { shared: new SharedExpert({ hiddenDim: m.hiddenDim, seed: m.seed + 2 }) } : {}),
        });
        const model = tf.sequential({ layers: [tf.layers.dense({ units: m.width, inputShape: [3], kernelInitializer: tf.initializers.glorotUniform({ seed: m.seed }) }), moe] });
        // perturb every weight (trainable or not) away from its seeded initial value
        const perturbed = model.getWeights().map((w, i) => tf.tidy(() => tf.add(w, tf.randomUniform(w.shape, -0.1, 0.1, 'float32', m.seed + 10 + i))));
        model.setWeights(perturbed);
        tf.dispose(perturbed);
        const restored = await roundTrip(model);
        const layer = restored.layers[1] as MoELayer;
        expect(layer.getConfig()).toEqual(moe.getConfig());
        const weights = model.getWeights();
        const loadedWeights = restored.getWeights();
        expect(loadedWeights.map((w) => w.shape)).toEqual(weights.map((w) => w.shape));
        loadedWeights.forEach((w, i) => expect(Array.from(w.dataSync())).toEqual(Array.from(weights[i]!.dataSync())));
        const x = tf.randomNormal([m.numTokens * 2, 3], 0, 1, 'float32', m.seed + 3); // an even T: Soft MoE's one group
        const before = model.predict(x) as tf.Tensor;
        const after = restored.predict(x) as tf.Tensor;
        expect(Array.from(after.dataSync())).toEqual(Array.from(before.dataSync()));
        tf.dispose([x, before, after]);
        model.dispose();
        restored.dispose();
        expect(tf.memory().numTensors).toBe(numBefore);
      }),
      { numRuns: 80 },
    );
  });
});
