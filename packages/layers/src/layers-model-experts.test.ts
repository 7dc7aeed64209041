import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import './register.js';
import { MixtureOfExperts, MoEArgumentError } from '@moekit/core';
import { expectNoLeakedTensors, expectTensorsClose, LinearTopKRouter } from '@moekit/core/testing';
import { LayersModelExperts } from './layers-model-experts.js';
import { MoELayer } from './moe-layer.js';

/** Expert 0: one dense layer, kernel [[1, 2], [3, 4]], no bias — [2] → [2]. */
function linearExpert(): tf.Sequential {
  const m = tf.sequential({ layers: [tf.layers.dense({ units: 2, inputShape: [2], useBias: false })] });
  m.layers[0]!.setWeights([tf.tensor2d([[1, 2], [3, 4]])]);
  return m;
}

/** Expert 1 (another architecture): dense 2 → 3 ReLU, kernel [[1, −1, 0], [0, 1, 1]], then dense 3 → 2, kernel [[1, 0], [0, 1], [1, 1]]; no biases. */
function twoLayerExpert(): tf.Sequential {
  const m = tf.sequential({
    layers: [tf.layers.dense({ units: 3, inputShape: [2], activation: 'relu', useBias: false }), tf.layers.dense({ units: 2, useBias: false })],
  });
  m.layers[0]!.setWeights([tf.tensor2d([[1, -1, 0], [0, 1, 1]])]);
  m.layers[1]!.setWeights([tf.tensor2d([[1, 0], [0, 1], [1, 1]])]);
  return m;
}

/** A random heterogeneous classifier [B, 6] → [B, 3]: `hidden` widths, seeded. */
function mlp(hidden: number[], seed: number): tf.Sequential {
  const m = tf.sequential();
  hidden.forEach((units, i) => m.add(tf.layers.dense({ units, activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed: seed + i }), ...(i === 0 ? { inputShape: [6] } : {}) })));
  m.add(tf.layers.dense({ units: 3, kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 10 }) }));
  return m;
}

describe('LayersModelExperts', () => {
  it('applies each model to its own buffer (hand-computed)', () => {
    const bank = new LayersModelExperts({ models: [linearExpert(), twoLayerExpert()] });
    // expert 0 on [1, 1]: [1·1 + 1·3, 1·2 + 1·4] = [4, 6]; on [0, 0]: [0, 0]
    // expert 1 on [1, 2]: hidden relu([1, −1 + 2, 2]) = [1, 1, 2]; out [1 + 2, 1 + 2] = [3, 3]; on [−1, 0]: relu([−1, 1, 0]) = [0, 1, 0] → [0, 1]
    const dispatched = tf.tensor3d([[[1, 1], [0, 0]], [[1, 2], [-1, 0]]]); // [E=2, C=2, D=2]
    const y = bank.apply(dispatched, { training: false }); // [2, 2, 2]
    expectTensorsClose(y, tf.tensor3d([[[4, 6], [0, 0]], [[3, 3], [0, 1]]]));
    // grouped: expert 0 owns row 0, expert 1 rows 1-2; a group of 0 rows calls nothing
    expectTensorsClose(bank.applyGrouped(tf.tensor2d([[1, 1], [1, 2], [-1, 0]]), [1, 2], { training: false }), tf.tensor2d([[4, 6], [3, 3], [0, 1]]));
    expectTensorsClose(bank.applyGrouped(tf.tensor2d([[1, 2]]), [0, 1], { training: false }), tf.tensor2d([[3, 3]]));
    expect(bank.applyGrouped(tf.zeros([0, 2]), [0, 0], { training: false }).shape).toEqual([0, 2]);
    expect(bank.inputFeatureShape).toEqual([2]);
    expect(bank.outputFeatureShape()).toEqual([2]);
    expect(bank.parametersPerExpert).toEqual([4, 12]); // 2·2; 2·3 + 3·2
    expect(bank.namedVariables().map(([path, v]) => `${path} [${v.shape}]`)).toEqual([
      `0/${bank.models[0]!.weights[0]!.originalName} [2,2]`,
      `1/${bank.models[1]!.weights[0]!.originalName} [2,3]`,
      `1/${bank.models[1]!.weights[1]!.originalName} [3,2]`,
    ]);
    expect(bank.trainableVariables).toHaveLength(3);
    bank.dispose();
  });

  it('rejects models of other shapes, non-models and wrong buffers by name', () => {
    const wide = tf.sequential({ layers: [tf.layers.dense({ units: 2, inputShape: [3] })] });
    expect(() => new LayersModelExperts({ models: [linearExpert(), wide] })).toThrow(
      new MoEArgumentError('LayersModelExperts', 'models[1]', "input [null, 2] → output [null, 2] (models[0]'s)", 'input [null, 3] → output [null, 2]'),
    );
    const threeOut = tf.sequential({ layers: [tf.layers.dense({ units: 3, inputShape: [2] })] });
    expect(() => new LayersModelExperts({ models: [linearExpert(), threeOut] })).toThrow("models[1]' expected input [null, 2] → output [null, 2] (models[0]'s), got input [null, 2] → output [null, 3]");
    expect(() => new LayersModelExperts({ models: [] })).toThrow('a non-empty array of tf.LayersModel');
    expect(() => new LayersModelExperts({ models: [linearExpert(), tf.layers.dense({ units: 2 }) as unknown as tf.LayersModel] })).toThrow("models[1]' expected a tf.LayersModel");
    const bank = new LayersModelExperts({ models: [linearExpert(), twoLayerExpert()] });
    expect(() => bank.apply(tf.zeros([2, 4, 3]), { training: false })).toThrow("LayersModelExperts.apply: argument 'dispatched' expected shape [2, C, 2], got shape [2, 4, 3]");
    expect(() => bank.apply(tf.zeros([3, 4, 2]), { training: false })).toThrow('expected shape [2, C, 2], got shape [3, 4, 2]');
    expect(() => bank.applyGrouped(tf.zeros([3, 2]), [1, 1], { training: false })).toThrow('expected shape [2, 2] with 2 group sizes, got shape [3, 2] with 2');
    bank.dispose();
    expect(() => bank.apply(tf.zeros([2, 1, 2]), { training: false })).toThrow('disposed');
  });

  it('routes sparsely in MixtureOfExperts with any router, without leaking, padded and grouped alike', async () => {
    const make = (layout: 'padded' | 'grouped') =>
      new MixtureOfExperts({ router: new LinearTopKRouter({ inputDim: 6, numExperts: 3, k: 1, seed: 3 }), experts: new LayersModelExperts({ models: [mlp([8], 1), mlp([4, 4], 2), mlp([16], 3)] }), layout, capacity: { eval: 0 } });
    const x = tf.randomNormal([10, 6], 0, 1, 'float32', 7); // [T, D]
    const padded = make('padded');
    const grouped = make('grouped');
    const a = padded.apply(x, { training: false });
    const b = grouped.apply(x, { training: false });
    expect(a.output.shape).toEqual([10, 3]);
    expectTensorsClose(a.output, b.output, { atol: 1e-5 }); // the same seeds: the same function either way
    tf.dispose([a, b] as unknown as tf.Tensor[]);
    await expectNoLeakedTensors(() => {
      const r = padded.apply(x, { training: true });
      tf.dispose(r.output);
      tf.dispose(Object.values(r.auxLosses));
      r.metrics.dispose?.();
    });
    padded.dispose();
    grouped.dispose();
  });

  it('trains inside MoELayer and reloads from a saved model as the same function', async () => {
    const experts = new LayersModelExperts({ models: [mlp([8], 1), mlp([4, 4], 2), mlp([16], 3)] });
    const model = tf.sequential({ layers: [new MoELayer({ inputShape: [6], router: new LinearTopKRouter({ inputDim: 6, numExperts: 3, k: 2, seed: 5 }), experts, name: 'ensemble' })] });
    model.compile({ optimizer: tf.train.adam(0.05), loss: tf.losses.softmaxCrossEntropy });
    const x = tf.randomNormal([32, 6], 0, 1, 'float32', 11); // [B, 6]
    const labels = tf.oneHot(tf.argMax(tf.slice(x, [0, 0], [-1, 3]), 1), 3); // [B, 3]: the argmax of the first three features
    expect(model.trainableWeights.map((w) => w.name)).toContain(`ensemble/experts/1/${experts.models[1]!.weights[2]!.originalName}`);
    const before = experts.models[1]!.weights[0]!.read().arraySync() as number[][];
    const history = await model.fit(x, labels, { epochs: 15, batchSize: 32, shuffle: false, verbose: 0 });
    const losses = history.history['loss'] as number[];
    expect(losses[losses.length - 1]!).toBeLessThan(losses[0]! * 0.8); // the experts' own weights learn
    expect(experts.models[1]!.weights[0]!.read().arraySync()).not.toEqual(before);

    let saved: tf.io.ModelArtifacts | undefined;
    await model.save(tf.io.withSaveHandler(async (artifacts) => ((saved = artifacts), { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } })));
    const restored = await tf.loadLayersModel(tf.io.fromMemory(saved!));
    const y0 = model.predict(x) as tf.Tensor;
    const y1 = restored.predict(x) as tf.Tensor;
    expectTensorsClose(y1, y0, { atol: 1e-6 });
    const loadedBank = (restored.layers[0] as MoELayer).experts as LayersModelExperts;
    expect(loadedBank).toBeInstanceOf(LayersModelExperts);
    expect(loadedBank.parametersPerExpert).toEqual(experts.parametersPerExpert); // same heterogeneous topologies
    await expectNoLeakedTensors(() => tf.dispose(restored.predict(x) as tf.Tensor));
    tf.dispose([x, labels, y0, y1]);
    model.dispose();
    restored.dispose();
  });

  it('saves and loads the bank on its own; a missing weight is an error naming it', async () => {
    const bank = new LayersModelExperts({ models: [linearExpert(), twoLayerExpert()] });
    let saved: tf.io.ModelArtifacts | undefined;
    await bank.save(tf.io.withSaveHandler(async (artifacts) => ((saved = artifacts), { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } })));
    expect(saved!.weightSpecs!.map((s) => s.name)).toEqual(bank.namedVariables().map(([path]) => path));
    const loaded = await LayersModelExperts.load(tf.io.fromMemory(saved!));
    const dispatched = tf.tensor3d([[[1, 1]], [[1, 2]]]); // [2, 1, 2]
    expectTensorsClose(loaded.apply(dispatched, { training: false }), tf.tensor3d([[[4, 6]], [[3, 3]]]));
    const before = tf.memory().numTensors;
    loaded.dispose();
    expect(tf.memory().numTensors).toBe(before - 3); // the three kernels of the two models
    const truncated = { ...saved!, weightSpecs: saved!.weightSpecs!.slice(0, 2), weightData: (saved!.weightData as ArrayBuffer).slice(0, 4 * (4 + 6)) };
    const missing = bank.namedVariables()[2]![0];
    await expect(LayersModelExperts.load(tf.io.fromMemory(truncated))).rejects.toThrow(`LayersModelExperts.load: argument 'weights['${missing}']' expected a saved weight of shape [3, 2], got missing`);
    await expect(LayersModelExperts.load(tf.io.fromMemory({ modelTopology: {}, weightSpecs: [], weightData: new ArrayBuffer(0) }))).rejects.toThrow("artifacts of format 'moekit-layers-model-experts'");
    bank.dispose();
  });
});
