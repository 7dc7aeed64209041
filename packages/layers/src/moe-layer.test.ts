import * as tf from '@tensorflow/tfjs';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import './register.js';
import { fileSystem } from '@moekit/platform';
import { GatedRouter, LinearGate, MoEDisposedError, selectTopK, type RoutingAlgorithm, type TokenChoiceOutput } from '@moekit/core';
import { LinearExpertBank, LinearTopKRouter } from '@moekit/core/testing';
import { MoELayer } from './moe-layer.js';

/** Top-1 of the scores, weight 1: the smallest algorithm, for a router whose gate builds lazily. */
class FixedTop1 implements RoutingAlgorithm {
  readonly k = 1;
  constructor(readonly numExperts: number) {}
  route(logits: tf.Tensor2D): TokenChoiceOutput {
    return tf.tidy(() => ({ logits: tf.clone(logits), probs: tf.softmax(logits) as tf.Tensor2D, expertIndex: selectTopK(logits, 1), auxLosses: { total: tf.scalar(0) } }));
  }
}

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function classifier(balanceWeight: number, seed = 1) {
  const router = new LinearTopKRouter({ inputDim: 8, numExperts: 4, k: 2, balanceWeight, seed });
  tf.tidy(() => router.kernel.assign(tf.add(router.kernel, tf.tensor2d([[0.6, 0, 0, 0]])))); // start unbalanced
  const moe = new MoELayer({ router, experts: new LinearExpertBank({ numExperts: 4, inputDim: 8, seed: seed + 1 }), capacity: { train: 2 }, name: 'moe' });
  const model = tf.sequential({
    layers: [
      tf.layers.dense({ units: 8, inputShape: [6], activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 2 }) }),
      moe,
      tf.layers.dense({ units: 3, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 3 }) }),
    ],
  });
  model.compile({ optimizer: tf.train.adam(0.02), loss: 'categoricalCrossentropy' });
  return { model, moe, router };
}

function data() {
  return tf.tidy(() => {
    const labels = tf.randomUniformInt([192], 0, 3, 7);
    const centers = tf.randomNormal([3, 6], 0, 2, 'float32', 8);
    return { x: tf.add(tf.gather(centers, labels), tf.randomNormal([192, 6], 0, 0.5, 'float32', 9)), y: tf.oneHot(labels, 3) };
  });
}

describe('MoELayer in tf.sequential', () => {
  it("exposes the router's and experts' weights as its own, and fit trains them with the aux loss", async () => {
    const { x, y } = data();
    const { model, moe, router } = classifier(0.5);
    expect(moe.trainableWeights.map((w) => w.shape)).toEqual([[8, 4], [4, 8, 8]]);
    expect(model.trainableWeights).toHaveLength(2 + 2 + 2);
    const loadAfterBatch: number[][] = [];
    const before = Array.from(router.kernel.dataSync());
    const history = await model.fit(x, y, {
      epochs: 6, batchSize: 64, shuffle: false, verbose: 0, validationSplit: 0,
      callbacks: { onBatchEnd: async () => void loadAfterBatch.push(moe.lastMetrics!.load) },
    });
    expect(Array.from(router.kernel.dataSync())).not.toEqual(before); // the router trained through fit
    expect(loadAfterBatch).toHaveLength(6 * 3);
    expect(loadAfterBatch[0]!.reduce((a, b) => a + b, 0)).toBe(128); // 64 tokens × k = 2, nothing dropped at factor 2
    const losses = history.history['loss'] as number[];
    expect(losses[losses.length - 1]).toBeLessThan(losses[0]!);
    tf.dispose([x, y]);
    model.dispose();
  });

  it('forwards each component variable by its path, without copying it', () => {
    const { model, moe, router } = classifier(0.01);
    expect(moe.weights.map((w) => w.originalName)).toEqual(['moe/router/kernel', 'moe/experts/kernel']);
    expect(moe.trainableWeights[0]!.read()).toBe(router.kernel); // the router's own variable, not a copy
    const weights = moe.getWeights();
    moe.setWeights([tf.onesLike(weights[0]!), weights[1]!]);
    expect(Array.from(router.kernel.dataSync()).every((v) => v === 1)).toBe(true); // setWeights writes into the router
    moe.trainable = false;
    expect([moe.trainableWeights.length, moe.nonTrainableWeights.length]).toEqual([0, 2]);
    tf.dispose(weights);
    model.dispose();
  });

  it('takes its width from the input: a lazily built gate is built by the layer', () => {
    const gate = new LinearGate({ numOutputs: 4, seed: 3 });
    const moe = new MoELayer({ router: new GatedRouter({ gate, algorithm: new FixedTop1(4) }), experts: LinearExpertBank.identity(4, 5), name: 'lazy' });
    const model = tf.sequential({ layers: [tf.layers.dense({ units: 5, inputShape: [3] }), moe] });
    expect(gate.trainableVariables.map((v) => v.shape)).toEqual([[5, 4]]);
    expect(moe.weights.map((w) => w.originalName)).toEqual(['lazy/router/gate/kernel', 'lazy/experts/kernel']);
    model.dispose();
  });

  it('the aux loss takes part in fit: the balance loss falls, and without it training differs', async () => {
    const { x, y } = data();
    const balance = (moe: MoELayer, model: tf.LayersModel) =>
      tf.tidy(() => {
        const hidden = model.layers[0]!.apply(x) as tf.Tensor;
        const r = moe.moe.apply(hidden, { training: true });
        return r.auxLosses['loadBalancing']!.dataSync()[0]!;
      });
    const runs = [5, 0].map(async (weight) => {
      const { model, moe, router } = classifier(weight);
      const start = balance(moe, model);
      await model.fit(x, y, { epochs: 8, batchSize: 64, shuffle: false, verbose: 0 });
      const result = { start, end: balance(moe, model), kernel: Array.from(router.kernel.dataSync()) };
      model.dispose();
      return result;
    });
    const [withLoss, without] = [await runs[0]!, await runs[1]!];
    expect(withLoss.end).toBeLessThan(withLoss.start);
    expect(withLoss.end).toBeLessThan(without.end);
    expect(withLoss.kernel).not.toEqual(without.kernel);
    tf.dispose([x, y]);
  });

  it('routes [B, S, D] per position or per sample in tf.model', () => {
    const input = tf.input({ shape: [5, 8] });
    // dropless in evaluation, so every position is routed whatever the draw of x
    const perPosition = new MoELayer({ router: new LinearTopKRouter({ inputDim: 8, numExperts: 3 }), experts: new LinearExpertBank({ numExperts: 3, inputDim: 8, outputDim: 4 }), capacity: { eval: 0 } });
    const out = perPosition.apply(input) as tf.SymbolicTensor;
    expect(out.shape).toEqual([null, 5, 4]);
    const model = tf.model({ inputs: input, outputs: out });
    const x = tf.randomNormal([2, 5, 8], 0, 1, 'float32', 7);
    const y = model.predict(x) as tf.Tensor;
    expect(y.shape).toEqual([2, 5, 4]);
    expect(perPosition.lastMetrics!.load.reduce((a, b) => a + b, 0)).toBe(10); // 2 · 5 positions routed
    const perSample = new MoELayer({ router: new LinearTopKRouter({ inputDim: 8, numExperts: 3 }), experts: { numExperts: 3, trainableVariables: [], apply: (d: tf.Tensor) => tf.mul(d, 2), dispose: () => {} }, routeOver: 'sample' });
    const z = perSample.apply(x) as tf.Tensor;
    expect(perSample.lastMetrics!.load.reduce((a, b) => a + b, 0)).toBe(2); // 2 samples routed whole
    expect(z.shape).toEqual([2, 5, 8]);
    expect(() => new MoELayer({ router: new LinearTopKRouter({ inputDim: 8, numExperts: 3 }), experts: new LinearExpertBank({ numExperts: 3, inputDim: 8 }), routeOver: 'token' as never })).toThrow("MoELayer: argument 'routeOver' expected one of 'position' | 'sample', got 'token'");
    tf.dispose([x, y, z]);
    model.dispose();
  });
});

describe('MoELayer bad input', () => {
  it('names the mismatch between the router and the experts', () => {
    const layer = new MoELayer({ router: new LinearTopKRouter({ inputDim: 8, numExperts: 2 }), experts: new LinearExpertBank({ numExperts: 2, inputDim: 6 }), name: 'mixed' });
    const x = tf.randomNormal([3, 8]);
    expect(() => layer.apply(x)).toThrow("MoELayer 'mixed'.build (input shape [3, 8]): argument 'experts' expected an expert bank for per-token inputs [8] (the input's), got LinearExpertBank built for [6]");
    expect(() => new MoELayer({ router: new LinearTopKRouter({ inputDim: 8, numExperts: 2 }), experts: new LinearExpertBank({ numExperts: 3, inputDim: 8 }) })).toThrow(
      "MixtureOfExperts: argument 'experts.numExperts' expected 2 (router.numExperts), got 3",
    );
    x.dispose();
  });
});

describe('tfjs habits (issue 18)', () => {
  it('rejects a bank or router built for another width when the layer is added, naming the layer and both shapes', () => {
    const model = tf.sequential({ layers: [tf.layers.dense({ units: 16, inputShape: [4] })] });
    const wideBank = new MoELayer({ router: new GatedRouter({ gate: new LinearGate({ numOutputs: 2 }), algorithm: new FixedTop1(2) }), experts: new LinearExpertBank({ numExperts: 2, inputDim: 32 }), name: 'wide_bank' });
    expect(() => model.add(wideBank)).toThrow("MoELayer 'wide_bank'.build (input shape [null, 16]): argument 'experts' expected an expert bank for per-token inputs [16] (the input's), got LinearExpertBank built for [32]");
    const wideRouter = new MoELayer({ router: new LinearTopKRouter({ inputDim: 32, numExperts: 2 }), experts: new LinearExpertBank({ numExperts: 2, inputDim: 16 }), name: 'wide_router' });
    expect(() => model.add(wideRouter)).toThrow("MoELayer 'wide_router'.build (input shape [null, 16]): argument 'router' expected a router for gate inputs of width 16 (the input's), got LinearTopKRouter built for width 32");
    // a lazily built gate reports the width it was built for too: a second model of another width is refused by name
    const lazy = new MoELayer({ router: new GatedRouter({ gate: new LinearGate({ numOutputs: 2 }), algorithm: new FixedTop1(2) }), experts: new LinearExpertBank({ numExperts: 2, inputDim: 16 }), name: 'lazy' });
    model.add(lazy);
    expect(lazy.router.inputDim).toBe(16);
    model.dispose();
  });

  it('is named moe, moe_1, moe_2, … unless named, as tfjs-layers names its own layers', () => {
    const make = () => new MoELayer({ router: new LinearTopKRouter({ inputDim: 4, numExperts: 2 }), experts: new LinearExpertBank({ numExperts: 2, inputDim: 4 }) });
    const names = [make(), make(), new MoELayer({ router: new LinearTopKRouter({ inputDim: 4, numExperts: 2 }), experts: new LinearExpertBank({ numExperts: 2, inputDim: 4 }), name: 'mine' }), make()].map((l) => l.name);
    // earlier tests in this file made unnamed layers: the counter is per process, so check the pattern and the order
    const numbers = names.filter((n) => n !== 'mine').map((n) => (n === 'moe' ? 0 : Number(/^moe_(\d+)$/.exec(n)![1])));
    expect(names[2]).toBe('mine');
    expect(numbers).toEqual([numbers[0], numbers[0]! + 1, numbers[0]! + 2]);
  });
});

describe('save and load with fileSystem()', () => {
  it('restores a model that predicts exactly what the saved one did', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'moekit-save-'));
    dirs.push(dir);
    const { x, y } = data();
    const { model } = classifier(0.1);
    await model.fit(x, y, { epochs: 2, batchSize: 64, verbose: 0 });
    await model.save(fileSystem(dir));
    const restored = await tf.loadLayersModel(fileSystem(dir));
    const a = model.predict(x) as tf.Tensor;
    const b = restored.predict(x) as tf.Tensor;
    expect(Array.from(b.dataSync())).toEqual(Array.from(a.dataSync()));
    expect(restored.layers[1]).toBeInstanceOf(MoELayer);
    tf.dispose([x, y, a, b]);
    model.dispose();
    restored.dispose();
  });

  it('names the file when the weights are truncated or corrupted', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'moekit-save-'));
    dirs.push(dir);
    const { model } = classifier(0.1);
    await model.save(fileSystem(dir));
    const weightsPath = join(dir, readdirSync(dir).find((name) => name.endsWith('.bin'))!); // the one weights file model.json names
    const original = readFileSync(weightsPath);
    writeFileSync(weightsPath, original.subarray(0, original.length - 8));
    await expect(tf.loadLayersModel(fileSystem(dir))).rejects.toThrow(`fileSystem: ${weightsPath} holds ${original.length - 8} bytes, but ${join(dir, 'model.json')} describes ${original.length} (truncated or from another model)`);
    const corrupted = Buffer.from(original);
    corrupted[12] = corrupted[12]! ^ 0xff;
    writeFileSync(weightsPath, corrupted);
    await expect(tf.loadLayersModel(fileSystem(dir))).rejects.toThrow(`fileSystem: ${weightsPath} does not match the SHA-256 recorded in ${join(dir, 'model.json')} (the file is corrupted)`);
    await expect(tf.loadLayersModel(fileSystem(join(dir, 'missing')))).rejects.toThrow(`fileSystem: cannot read ${join(dir, 'missing', 'model.json')}`);
    model.dispose();
  });
});

describe('leaks', () => {
  it('fit, predict, save and load leave no tensors behind', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'moekit-save-'));
    dirs.push(dir);
    const { x, y } = data();
    const { model } = classifier(0.1);
    const cycle = async () => {
      await model.fit(x, y, { epochs: 1, batchSize: 64, verbose: 0 });
      tf.dispose(model.predict(x) as tf.Tensor);
      await model.save(fileSystem(dir));
      const restored = await tf.loadLayersModel(fileSystem(dir));
      tf.dispose(restored.predict(x) as tf.Tensor);
      restored.dispose();
    };
    await cycle(); // primes the optimizer's state
    const before = tf.memory().numTensors;
    await cycle();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, y]);
    model.dispose();
  });
});

describe('MoELayer at the edges (issue 17)', () => {
  const parts = () => ({ router: new LinearTopKRouter({ inputDim: 4, numExperts: 2 }), experts: new LinearExpertBank({ numExperts: 2, inputDim: 4 }) });

  it('rejects unknown options by name, listing the known ones, and a missing options object', () => {
    const known = 'router, experts, shared, routeOver, capacity, renormalize, secondChoiceOffset, slotOrder, checkFinite, layout, droppedTokens, dropWarning, expertOutputMasking, finalOutputMasking, inputShape, batchInputShape, batchSize, dtype, name, trainable, weights, inputDType';
    expect(() => new MoELayer({ ...parts(), capacityFactr: 2 } as never)).toThrow(`MoELayer: argument 'capacityFactr' expected one of the known options (${known}), got unknown option 'capacityFactr'`);
    expect(() => new MoELayer({ ...parts(), combiner: {} } as never)).toThrow("MoELayer: argument 'combiner' expected one of the known options");
    // moekit 0.1's flat capacity names still say what replaced them
    expect(() => new MoELayer({ ...parts(), capacityFactorTrain: 2 } as never)).toThrow("argument 'capacityFactorTrain' expected the capacity object instead");
    expect(() => new (MoELayer as unknown as new () => MoELayer)()).toThrow("MoELayer: argument 'args' expected an options object ({ router, experts, … }), got undefined");
    expect(() => new MoELayer(null as never)).toThrow("MoELayer: argument 'args' expected an options object ({ router, experts, … }), got null");
    expect(() => new MoELayer({ experts: parts().experts } as never)).toThrow("MixtureOfExperts: argument 'router' expected a value, got undefined");
    // tfjs-layers' own arguments still reach the Layer base
    expect(new MoELayer({ ...parts(), name: 'named', trainable: false, inputShape: [4] }).getConfig()).toMatchObject({ name: 'named', trainable: false, batchInputShape: [null, 4] });
  });

  it("passes slotOrder to the MoE and saves it in the config (DeepSpeed topkgating's token-major order)", () => {
    const layer = new MoELayer({ ...parts(), slotOrder: 'tokenMajor' });
    expect(layer.moe.config.slotOrder).toBe('tokenMajor');
    expect(layer.getConfig()).toMatchObject({ slotOrder: 'tokenMajor' });
    const restored = MoELayer.fromConfig(MoELayer, layer.getConfig()) as MoELayer;
    expect(restored.moe.config.slotOrder).toBe('tokenMajor');
    expect(new MoELayer(parts()).moe.config.slotOrder).toBe('choiceMajor');
    expect(() => new MoELayer({ ...parts(), slotOrder: 'tokenMajor', secondChoiceOffset: 'all' })).toThrow("argument 'secondChoiceOffset' expected 'kept' (the default) with slotOrder 'tokenMajor'");
    [layer, restored].forEach((l) => l.moe.dispose());
  });

  it('answers an empty batch with an empty output through layer.apply and model.apply, leaking nothing', async () => {
    const layer = new MoELayer({ ...parts(), name: 'moe' });
    const model = tf.sequential({ layers: [tf.layers.dense({ units: 4, inputShape: [3] }), layer, tf.layers.dense({ units: 2 })] });
    const empty = tf.zeros([0, 3]);
    const emptySequences = tf.zeros([0, 5, 4]);
    const run = () => {
      const y = model.apply(empty) as tf.Tensor;
      const z = layer.apply(emptySequences) as tf.Tensor;
      const shapes = [y.shape, z.shape, layer.lastMetrics!.capacity, layer.lastMetrics!.load, layer.auxLoss!.dataSync()[0]];
      tf.dispose([y, z]);
      return shapes;
    };
    expect(run()).toEqual([[0, 2], [0, 5, 4], 0, [0, 0], 0]);
    const before = tf.memory().numTensors;
    run();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([empty, emptySequences]);
    model.dispose();
  });

  it('refuses use after model.dispose() with a named error, leaking nothing', () => {
    const layer = new MoELayer({ ...parts(), name: 'moe' });
    const model = tf.sequential({ layers: [tf.layers.dense({ units: 4, inputShape: [3] }), layer] });
    const x = tf.ones([2, 3]);
    const h = tf.ones([2, 4]);
    tf.dispose(model.predict(x) as tf.Tensor);
    model.dispose();
    const before = tf.memory().numTensors;
    expect(() => model.predict(x)).toThrow("Layer 'dense_Dense");
    expect(() => layer.apply(h)).toThrow("Layer 'moe' is already disposed.");
    // the layer's MoE is released with it: calling it directly is moekit's named error
    expect(() => layer.call(h, {})).toThrow('MixtureOfExperts.apply: this MixtureOfExperts was disposed');
    expect(() => layer.moe.apply(h, { training: false })).toThrow(MoEDisposedError);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, h]);
  });

  it("names the registering package when a model.json names a router or bank class after an Object member", async () => {
    const model = tf.sequential({ layers: [tf.layers.dense({ units: 4, inputShape: [3] }), new MoELayer({ ...parts(), name: 'moe' })] });
    let saved: tf.io.ModelArtifacts | undefined;
    await model.save(tf.io.withSaveHandler(async (artifacts) => {
      saved = artifacts;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }));
    model.dispose();
    const topology = JSON.stringify(saved!.modelTopology);
    for (const [saved_, field] of [['"LinearTopKRouter"', 'router'], ['"LinearExpertBank"', 'experts']] as const) {
      for (const name of ['constructor', 'toString', 'hasOwnProperty', 'valueOf', 'isPrototypeOf']) {
        const modelTopology = JSON.parse(topology.replace(saved_, JSON.stringify(name))) as object;
        await expect(tf.loadLayersModel(tf.io.fromMemory({ ...saved!, modelTopology }))).rejects.toThrow(
          `MoELayer.fromConfig: argument '${field}.className' expected a registered component class (import '@moekit/core/testing' before loading), got '${name}'`,
        );
      }
    }
  });
});
