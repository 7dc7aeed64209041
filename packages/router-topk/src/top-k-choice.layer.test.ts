import * as tf from '@tensorflow/tfjs';
import { GatedRouter } from '@moekit/core';
import { MoELayer } from '@moekit/layers';
import { expectTensorsClose, LinearExpertBank } from '@moekit/core/testing';
import { describe, expect, it } from 'vitest';
import './register.js';
import { CosineGate } from './cosine-gate.js';
import { TopKChoice } from './top-k-choice.js';

function classifier(seed = 1) {
  const router = new GatedRouter({
    gate: new CosineGate({ numOutputs: 4, seed }),
    algorithm: new TopKChoice({ numExperts: 4, k: 2, gating: 'sigmoid', biasUpdateRate: 0.01 }),
  });
  const moe = new MoELayer({ router, experts: new LinearExpertBank({ numExperts: 4, inputDim: 8, seed: seed + 1 }), capacity: { train: 2 }, name: 'moe' });
  const model = tf.sequential({
    layers: [
      tf.layers.dense({ units: 8, inputShape: [6], activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 2 }) }),
      moe,
      tf.layers.dense({ units: 3, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 3 }) }),
    ],
  });
  model.compile({ optimizer: tf.train.adam(0.02), loss: 'categoricalCrossentropy' });
  return { model, moe, router, algorithm: router.algorithm as TopKChoice };
}

function data() {
  return tf.tidy(() => {
    const labels = tf.randomUniformInt([192], 0, 3, 7);
    const centers = tf.randomNormal([3, 6], 0, 2, 'float32', 8);
    return { x: tf.add(tf.gather(centers, labels), tf.randomNormal([192, 6], 0, 0.5, 'float32', 9)), y: tf.oneHot(labels, 3) };
  });
}

async function saveToMemory(model: tf.LayersModel): Promise<tf.io.ModelArtifacts> {
  let saved: tf.io.ModelArtifacts | undefined;
  await model.save(tf.io.withSaveHandler(async (artifacts) => {
    saved = artifacts;
    return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
  }));
  return saved!;
}

describe('CosineGate + TopKChoice (sigmoid, aux-loss-free) in an MoELayer', () => {
  it('fits one epoch in tf.sequential: the gate trains, the bias moves, the load is counted', async () => {
    const { x, y } = data();
    const { model, moe, router, algorithm } = classifier();
    expect(moe.trainableWeights.map((w) => w.shape)).toEqual([[8, 16], [16, 4], [], [4, 8, 8]]); // W_p, E_emb, log τ, experts
    const before = router.trainableVariables.map((v) => Array.from(v.dataSync()));
    const loads: number[][] = [];
    const history = await model.fit(x, y, { epochs: 1, batchSize: 64, shuffle: false, verbose: 0, callbacks: { onBatchEnd: async () => void loads.push(moe.lastMetrics!.needed) } });
    const loss = (history.history['loss'] as number[])[0]!;
    expect(Number.isFinite(loss)).toBe(true);
    router.trainableVariables.forEach((v, i) => expect(Array.from(v.dataSync()), `router variable ${i} trained`).not.toEqual(before[i]));
    expect(loads).toHaveLength(3); // 192 / 64 batches
    loads.forEach((load) => expect(load.reduce((a, b) => a + b, 0)).toBe(128)); // 64 tokens × k = 2 choices
    // three training calls: every bias entry moved by ±0.01 per call (or stayed, for an exactly average load)
    const bias = Array.from(algorithm.expertBias!.dataSync());
    expect(bias.some((b) => b !== 0)).toBe(true);
    bias.forEach((b) => expect(Math.abs(b)).toBeLessThanOrEqual(0.03 + 1e-6));
    tf.dispose([x, y]);
    model.dispose();
    algorithm.dispose(); // already released by the model's MoELayer: a no-op
  });

  it('saves and loads: the restored model predicts the same and restores the learned τ and the bias', async () => {
    const { x, y } = data();
    const { model, algorithm } = classifier(2);
    await model.fit(x, y, { epochs: 2, batchSize: 64, verbose: 0 });
    const artifacts = await saveToMemory(model);
    const a = model.predict(x) as tf.Tensor;
    const beforeLoad = tf.memory().numTensors;
    const restored = await tf.loadLayersModel(tf.io.fromMemory(artifacts));
    const restoredRouter = (restored.layers[1] as MoELayer).router as GatedRouter;
    const restoredAlgorithm = restoredRouter.algorithm as TopKChoice;
    expect(restoredRouter.gate).toBeInstanceOf(CosineGate);
    expect(Array.from(restoredAlgorithm.expertBias!.dataSync())).toEqual(Array.from(algorithm.expertBias!.dataSync()));
    const tau = [(model.layers[1] as MoELayer).router as GatedRouter, restoredRouter].map((r) => {
      const t = (r.gate as CosineGate).temperature();
      const value = t.dataSync()[0]!;
      t.dispose();
      return value;
    });
    // the same log τ: exact on cpu; on webgl exp of it may differ by an ulp between shader programs
    if (tf.getBackend() === 'cpu') expect(tau[1]).toBe(tau[0]);
    else expect(tau[1]).toBeCloseTo(tau[0]!, 7);
    expect(tau[0]).not.toBeCloseTo(0.07, 4); // τ was learned
    const b = restored.predict(x) as tf.Tensor;
    // bit for bit on cpu; on webgl the same weights may round differently between shader programs
    if (tf.getBackend() === 'cpu') expect(Array.from(b.dataSync())).toEqual(Array.from(a.dataSync()));
    else expectTensorsClose(b, a, { atol: 1e-6, rtol: 1e-6 });
    b.dispose();
    // disposing the restored model releases its layer's components too, the algorithm's bias included
    restored.dispose();
    expect(tf.memory().numTensors).toBe(beforeLoad);
    restoredAlgorithm.dispose(); // a second dispose is a no-op
    expect(tf.memory().numTensors).toBe(beforeLoad);
    tf.dispose([x, y, a]);
    model.dispose();
    algorithm.dispose();
  });

  it('fit and predict leak no tensors', async () => {
    const { x, y } = data();
    const { model, algorithm } = classifier(3);
    const cycle = async () => {
      await model.fit(x, y, { epochs: 1, batchSize: 64, verbose: 0 });
      tf.dispose(model.predict(x) as tf.Tensor);
    };
    await cycle(); // primes the optimiser's state
    const before = tf.memory().numTensors;
    await cycle();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, y]);
    model.dispose();
    algorithm.dispose();
  });
});
