import * as tf from '@tensorflow/tfjs';
import type { Router } from '@moekit/core';
import { FeedForwardExperts, TransformerMoEBlock } from '@moekit/experts-ffn';
import { BatchPriorityRouter } from '@moekit/router-batch-priority';
import { SwitchRouter } from '@moekit/router-switch';
import { HierarchicalTopKRouter, TopKRouter } from '@moekit/router-topk';
import { describe, expect, it } from 'vitest';

const routers: [string, () => Router][] = [
  ['TopKRouter', () => new TopKRouter({ numExperts: 4, k: 2, seed: 1 })],
  ['HierarchicalTopKRouter', () => new HierarchicalTopKRouter({ numGroups: 2, expertsPerGroup: 2, seed: 2 })],
  ['SwitchRouter', () => new SwitchRouter({ numExperts: 4, seed: 3 })],
  ['BatchPriorityRouter', () => new BatchPriorityRouter({ router: new SwitchRouter({ numExperts: 4, seed: 4 }) })],
];

describe('a Transformer block with a Switch FFN takes any router', () => {
  for (const [name, makeRouter] of routers) {
    it(`${name}: trains a step with fit and predicts without leaking`, async () => {
      await tf.setBackend('cpu');
      const model = tf.sequential({
        layers: [
          tf.layers.dense({ units: 8, inputShape: [5, 4] }),
          new TransformerMoEBlock({ numHeads: 2, causal: true, seed: 5, moe: { router: makeRouter(), experts: new FeedForwardExperts({ numExperts: 4, inputDim: 8, hiddenDim: 16, seed: 6 }) } }),
          tf.layers.dense({ units: 2 }),
        ],
      });
      model.compile({ optimizer: 'adam', loss: 'meanSquaredError' });
      const x = tf.randomNormal([16, 5, 4], 0, 1, 'float32', 7);
      const y = tf.randomNormal([16, 5, 2], 0, 1, 'float32', 8);
      const history = await model.fit(x, y, { epochs: 1, batchSize: 8, verbose: 0 });
      expect(Number.isFinite((history.history['loss'] as number[])[0])).toBe(true);
      tf.dispose(model.predict(x) as tf.Tensor);
      const before = tf.memory().numTensors;
      tf.dispose(model.predict(x) as tf.Tensor);
      expect(tf.memory().numTensors).toBe(before);
      tf.dispose([x, y]);
      model.dispose();
    });
  }
});
