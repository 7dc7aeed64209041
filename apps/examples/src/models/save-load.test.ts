import * as tf from '@tensorflow/tfjs';
import { type Router } from '@moekit/core';
import { MoELayer } from '@moekit/layers';
import { fileSystem } from '@moekit/platform';
import { FeedForwardExperts, SharedExpert } from '@moekit/experts-ffn';
import { BatchPriorityRouter } from '@moekit/router-batch-priority';
import { SwitchRouter } from '@moekit/router-switch';
import { HierarchicalTopKRouter, TopKRouter } from '@moekit/router-topk';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const dir = mkdtempSync(join(tmpdir(), 'moekit-routers-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const routers: [string, () => Router][] = [
  ['TopKRouter', () => new TopKRouter({ numExperts: 4, k: 2, noise: 'shazeer', kernelInitializer: 'glorotUniform', seed: 1 })],
  ['HierarchicalTopKRouter', () => new HierarchicalTopKRouter({ numGroups: 2, expertsPerGroup: 2, kernelInitializer: 'glorotUniform', seed: 2 })],
  ['SwitchRouter', () => new SwitchRouter({ numExperts: 4, zLossWeight: 1e-3, seed: 3 })],
  ['BatchPriorityRouter', () => new BatchPriorityRouter({ router: new TopKRouter({ numExperts: 4, k: 2, noise: 'gaussian', seed: 4 }) })],
];

describe('save and load a model with each router type', () => {
  for (const [name, makeRouter] of routers) {
    it(`${name}: the restored model predicts exactly what the saved one did`, async () => {
      await tf.setBackend('cpu');
      const model = tf.sequential({
        layers: [
          tf.layers.dense({ units: 8, inputShape: [5], activation: 'relu' }),
          new MoELayer({
            router: makeRouter(),
            experts: new FeedForwardExperts({ numExperts: 4, inputDim: 8, hiddenDim: 12, gated: 'swiglu', seed: 5 }),
            shared: new SharedExpert({ inputDim: 8, hiddenDim: 6, seed: 6 }),
            capacity: { eval: 1 },
          }),
          tf.layers.dense({ units: 3 }),
        ],
      });
      model.compile({ optimizer: 'adam', loss: 'meanSquaredError' });
      const x = tf.randomNormal([40, 5], 0, 1, 'float32', 7);
      const y = tf.randomNormal([40, 3], 0, 1, 'float32', 8);
      await model.fit(x, y, { epochs: 1, batchSize: 20, verbose: 0 });
      const path = join(dir, name);
      await model.save(fileSystem(path));
      const restored = await tf.loadLayersModel(fileSystem(path));
      const before = model.predict(x) as tf.Tensor;
      const after = restored.predict(x) as tf.Tensor;
      expect(Array.from(after.dataSync())).toEqual(Array.from(before.dataSync()));
      const layer = restored.layers[1] as MoELayer;
      expect(layer.router.constructor.name).toBe(name);
      expect(layer.getWeights().length).toBe((model.layers[1] as MoELayer).getWeights().length);
      tf.dispose([x, y, before, after]);
      model.dispose();
      restored.dispose();
    });
  }
});
