import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { LinearExpertBank, LinearTopKRouter } from '@moekit/core/testing';
import './register.js';
import { MoELayer } from './moe-layer.js';
import { routingHealthCallback } from './routing-health-callback.js';

describe('routingHealthCallback', () => {
  it('adds the MoE layers\' training and validation health to the fit logs and prints a line per epoch', async () => {
    const router = new LinearTopKRouter({ inputDim: 6, numExperts: 4, k: 1, seed: 1 });
    tf.tidy(() => router.kernel.assign(tf.add(router.kernel, tf.tensor2d([[3, 0, 0, 0]])))); // feature 0 ≥ 0 sends most tokens to expert 0
    const moe = new MoELayer({ router, experts: new LinearExpertBank({ numExperts: 4, inputDim: 6, seed: 2 }), capacity: { train: 1, eval: 0 }, inputShape: [6], name: 'moe' });
    const model = tf.sequential({
      layers: [
        moe,
        tf.layers.dense({ units: 2, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }) }),
      ],
    });
    model.compile({ optimizer: tf.train.sgd(0), loss: 'categoricalCrossentropy' }); // learning rate 0: routing stays as set
    const x = tf.abs(tf.randomNormal([64, 6], 0, 1, 'float32', 4));
    const y = tf.oneHot(tf.randomUniformInt([64], 0, 2, 5), 2);
    const lines: string[] = [];
    const health = routingHealthCallback({ print: (line) => lines.push(line) });
    const before = tf.memory().numTensors;
    const history = await model.fit(x, y, { epochs: 2, batchSize: 32, verbose: 0, validationData: [x, y], callbacks: [health] });
    moe.lastMetrics?.dispose(); // the last call's unread metrics (released by the next call otherwise)
    expect(tf.memory().numTensors).toBe(before); // the accumulators are released at the end of training
    expect(health.epochs).toHaveLength(2);
    const { train, val } = health.epochs[0]!.layers['moe']!;
    expect(train!.calls).toBe(2); // two batches of 32
    expect(train!.tokens).toBe(64);
    expect(val!.tokens).toBe(64);
    // training at factor 1: capacity 8 per expert, so the crowded expert 0 drops; dropless validation keeps all
    expect(train!.load.reduce((a, b) => a + b, 0)).toBeLessThan(64);
    expect(train!.droppedFraction).toBeGreaterThan(0);
    expect(val!.droppedFraction).toBe(0);
    expect(val!.load.reduce((a, b) => a + b, 0)).toBe(64);
    expect(history.history['moe_load_cv']).toEqual([train!.loadCv, health.epochs[1]!.layers['moe']!.train!.loadCv]);
    expect(history.history['val_moe_load_cv']![0]).toBe(val!.loadCv);
    expect(history.history['val_moe_dead_experts']![0]).toBe(val!.deadExperts);
    expect(history.history['moe_dropped']![0]).toBe(train!.droppedFraction);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^epoch 1 · moe train: load CV \d+\.\d\d, dead \d\/4, dropped \d+\.\d % · val: load CV \d+\.\d\d, dead \d\/4, dropped 0\.0 %$/);
    tf.dispose([x, y]);
    model.dispose();
  });
});
