// Every router of this package inside tfjs-layers: MoELayer in tf.sequential trains with fit, and the
// model predicts the same after a save and a load through tfjs's serialisation registry.
import * as tf from '@tensorflow/tfjs';
import { type Router } from '@moekit/core';
import { MoELayer } from '@moekit/layers';
import { expectNoLeakedTensors, expectTensorsClose, LinearExpertBank } from '@moekit/core/testing';
import { describe, expect, it } from 'vitest';
import './register.js';
import { balancedAssignmentRouter, expertChoiceRouter, HashRouter, softMoERouter } from './index.js';

const routers: Array<[string, () => Router]> = [
  ['BASE balanced assignment', () => balancedAssignmentRouter({ numExperts: 4, seed: 1 })],
  ['hash routing of SimHash buckets', () => new HashRouter({ numExperts: 4, hashOf: 'featureBucket', bucketBits: 6, seed: 1 })],
  ['expert choice', () => expertChoiceRouter({ numExperts: 4, seed: 1 })],
  ['Soft MoE', () => softMoERouter({ numExperts: 4, slotsPerExpert: 4, seed: 1 })],
];

/** A save target that keeps the artifacts in memory. */
function memory() {
  let saved: tf.io.ModelArtifacts | undefined;
  return {
    save: async (artifacts: tf.io.ModelArtifacts) => {
      saved = artifacts;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' as const } };
    },
    load: async () => saved!,
  };
}

describe('router-balanced routers in an MoELayer', () => {
  for (const [name, make] of routers) {
    it(`${name}: fit trains in tf.sequential, and a saved model predicts the same after loading`, async () => {
      const model = tf.sequential({ layers: [
        tf.layers.dense({ units: 8, inputShape: [6] }),
        new MoELayer({ router: make(), experts: new LinearExpertBank({ numExperts: 4, inputDim: 8, seed: 2 }), layout: 'padded', capacity: { eval: 0 }, name: 'moe' }),
        tf.layers.dense({ units: 2 }),
      ] });
      model.compile({ optimizer: tf.train.adam(0.01), loss: 'meanSquaredError' });
      const x = tf.randomNormal([64, 6], 0, 1, 'float32', 3);
      const y = tf.randomNormal([64, 2], 0, 1, 'float32', 4);
      const history = await model.fit(x, y, { epochs: 2, batchSize: 32, shuffle: false, verbose: 0 });
      const losses = history.history['loss'] as number[];
      expect(losses.every(Number.isFinite)).toBe(true);
      await expectNoLeakedTensors(() => tf.dispose(model.predict(x) as tf.Tensor));
      const handler = memory();
      await model.save(handler);
      const restored = await tf.loadLayersModel(handler);
      const [a, b] = [model.predict(x) as tf.Tensor, restored.predict(x) as tf.Tensor];
      // bit for bit on cpu; on webgl the same weights may round differently between shader programs
      if (tf.getBackend() === 'cpu') expect(Array.from(b.dataSync())).toEqual(Array.from(a.dataSync()));
      else expectTensorsClose(b, a, { atol: 1e-6, rtol: 1e-6 });
      tf.dispose([a, b, x, y]);
      restored.dispose();
      model.dispose();
    });
  }
});
