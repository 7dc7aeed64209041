import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import './register.js';
import { MoEArgumentError, MoEDisposedError } from '@moekit/core';
import { expectNoLeakedTensors, LinearExpertBank, LinearTopKRouter } from '@moekit/core/testing';
import { MoELayer } from './moe-layer.js';

// One expert bank used by two MoE layers, each with its own router and its own normalisation
// (Bai et al. 2022, "Parameter-Efficient Conformers via Sharing Sparsely-Gated Experts for End-to-End
// Speech Recognition", https://arxiv.org/abs/2209.08326, §2.3).
function sharedModel(seed = 1) {
  const bank = new LinearExpertBank({ numExperts: 4, inputDim: 8, seed });
  const a = new MoELayer({ router: new LinearTopKRouter({ inputDim: 8, numExperts: 4, k: 2, seed: seed + 1 }), experts: bank, name: 'shared_a' });
  const b = new MoELayer({ router: new LinearTopKRouter({ inputDim: 8, numExperts: 4, k: 2, seed: seed + 2 }), experts: bank, name: 'shared_b' });
  const model = tf.sequential({
    layers: [
      tf.layers.dense({ units: 8, inputShape: [6], kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 3 }) }),
      a,
      tf.layers.layerNormalization({ name: 'norm_b' }),
      b,
      tf.layers.dense({ units: 3, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 4 }) }),
    ],
  });
  return { model, bank, a, b };
}

describe('MoELayer: one expert bank shared by several layers (Bai et al. 2022)', () => {
  it('counts the bank once: the later layer forwards only its router and names the owner', () => {
    const { model, a, b } = sharedModel();
    expect(a.sharesExpertsWith).toBeUndefined();
    expect(b.sharesExpertsWith).toBe('shared_a');
    expect(a.trainableWeights.map((w) => w.originalName)).toEqual(['shared_a/router/kernel', 'shared_a/experts/kernel']);
    expect(b.trainableWeights.map((w) => w.originalName)).toEqual(['shared_b/router/kernel']);
    // dense 6·8+8 = 56, routers 2 × 8·4 = 64, bank 4·8·8 = 256 (once), layer norm 2·8 = 16, dense 8·3+3 = 27 → 419
    expect(model.countParams()).toBe(56 + 64 + 256 + 16 + 27);
    const names = model.trainableWeights.map((w) => w.originalName);
    expect(names.filter((n) => n.endsWith('experts/kernel'))).toEqual(['shared_a/experts/kernel']);
    model.dispose();
  });

  it("both layers' gradients reach the shared bank and add up", () => {
    const { model, bank, a, b } = sharedModel();
    const [xa, xb] = [tf.randomNormal([5, 8], 0, 1, 'float32', 11), tf.randomNormal([5, 8], 0, 1, 'float32', 12)];
    const grad = (f: () => tf.Scalar) => tf.tidy(() => tf.variableGrads(f, [bank.kernel]).grads[bank.kernel.name]!.arraySync() as number[][][]);
    const viaA = grad(() => tf.sum(a.apply(xa) as tf.Tensor) as tf.Scalar);
    const viaB = grad(() => tf.sum(b.apply(xb) as tf.Tensor) as tf.Scalar);
    const both = grad(() => tf.add(tf.sum(a.apply(xa) as tf.Tensor), tf.sum(b.apply(xb) as tf.Tensor)) as tf.Scalar);
    const norm = (g: number[][][]) => Math.hypot(...g.flat(2));
    expect(norm(viaA)).toBeGreaterThan(0);
    expect(norm(viaB)).toBeGreaterThan(0);
    // ∂(La + Lb)/∂W = ∂La/∂W + ∂Lb/∂W: one variable, two uses
    both.flat(2).forEach((g, i) => expect(g).toBeCloseTo(viaA.flat(2)[i]! + viaB.flat(2)[i]!, 5));
    tf.dispose([xa, xb]);
    model.dispose();
  });

  it('fit updates the shared bank once per step', async () => {
    const { model, bank } = sharedModel();
    model.compile({ optimizer: tf.train.sgd(0.1), loss: 'categoricalCrossentropy' });
    const x = tf.randomNormal([16, 6], 0, 1, 'float32', 3);
    const y = tf.oneHot(tf.randomUniformInt([16], 0, 3, 4), 3);
    const before = bank.kernel.arraySync() as number[][][];
    await model.fit(x, y, { epochs: 1, batchSize: 16, verbose: 0 });
    const after = bank.kernel.arraySync() as number[][][];
    expect(after.flat(2).some((v, i) => v !== before.flat(2)[i])).toBe(true);
    tf.dispose([x, y]);
    model.dispose();
  });

  it('save and load keep the sharing: one bank again, saved once, identical predictions', async () => {
    const { model } = sharedModel();
    const x = tf.randomNormal([4, 6], 0, 1, 'float32', 21);
    let saved: tf.io.ModelArtifacts | undefined;
    await model.save(tf.io.withSaveHandler(async (artifacts) => {
      saved = artifacts;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }));
    expect(saved!.weightSpecs!.map((s) => s.name).filter((n) => n.includes('experts'))).toEqual(['shared_a/experts/kernel']);
    expect(JSON.stringify(saved!.modelTopology)).toContain('"experts":{"shared_with":{"name":"shared_a"}}') // tfjs-layers writes snake case;
    const loaded = await tf.loadLayersModel(tf.io.fromMemory(saved!));
    const [la, lb] = [loaded.getLayer('shared_a') as MoELayer, loaded.getLayer('shared_b') as MoELayer];
    expect(lb.experts).toBe(la.experts);
    expect(lb.sharesExpertsWith).toBe('shared_a');
    expect(loaded.countParams()).toBe(model.countParams());
    const [p, q] = [model.predict(x) as tf.Tensor, loaded.predict(x) as tf.Tensor];
    expect(Array.from(q.dataSync())).toEqual(Array.from(p.dataSync()));
    tf.dispose([x, p, q]);
    model.dispose();
    loaded.dispose();
  });

  it('a missing owner on load is a named error', () => {
    expect(() => MoELayer.fromConfig(MoELayer, { router: { className: 'LinearTopKRouter', config: { inputDim: 8, numExperts: 4, k: 2 } }, experts: { sharedWith: { name: 'no_such_layer' } } })).toThrow(
      new MoEArgumentError('MoELayer.fromConfig', 'experts.sharedWith', 'the name of a live MoELayer loaded before this one that owns the bank', "'no_such_layer'"),
    );
  });

  it('releases the bank only with its last user, in either order, without leaks', async () => {
    for (const order of [['a', 'b'], ['b', 'a']] as const) {
      await expectNoLeakedTensors(() => {
        const { model, bank, a, b } = sharedModel();
        const x = tf.randomNormal([3, 8], 0, 1, 'float32', 5);
        const layers = { a, b };
        tf.dispose([a.apply(x) as tf.Tensor, b.apply(x) as tf.Tensor]);
        layers[order[0]].releaseComponents();
        expect(bank.isDisposed).toBe(false);
        expect(() => layers[order[0]].moe.apply(x, { training: false })).toThrow(MoEDisposedError);
        const y = layers[order[1]].apply(x) as tf.Tensor; // the other layer still runs on the bank
        expect(y.shape).toEqual([3, 8]);
        layers[order[1]].releaseComponents();
        expect(bank.isDisposed).toBe(true);
        tf.dispose([x, y]);
        model.dispose(); // the dense and norm weights; the MoE layers' release is idempotent
      });
    }
  });
});

