import * as tf from '@tensorflow/tfjs';
import { fileSystem } from '@moekit/platform';
import { type MoELayerArgs } from '@moekit/layers';
import { LinearTopKRouter } from '@moekit/core/testing';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import './register.js';
import { FeedForwardExperts } from './feed-forward-experts.js';
import { TransformerMoEBlock } from './transformer-moe-block.js';

const moeArgs = (dim: number, seed: number): MoELayerArgs => ({
  router: new LinearTopKRouter({ inputDim: dim, numExperts: 4, k: 2, seed }),
  experts: new FeedForwardExperts({ numExperts: 4, inputDim: dim, hiddenDim: 2 * dim, activation: 'gelu', seed: seed + 1 }),
  capacity: { train: 0, eval: 0 }, // dropless: a position's output depends on no other position's routing
});

describe('TransformerMoEBlock', () => {
  it('builds experts given without inputDim from the model width, and forwards their weights', () => {
    const experts = new FeedForwardExperts({ numExperts: 4, hiddenDim: 16, seed: 3 }); // D from the block's input
    const block = new TransformerMoEBlock({ numHeads: 2, seed: 1, moe: { router: new LinearTopKRouter({ inputDim: 8, numExperts: 4, k: 2, seed: 2 }), experts } });
    const x = tf.zeros([2, 5, 8]);
    const y = block.apply(x) as tf.Tensor; // builds for [B, S, 8]
    expect(y.shape).toEqual([2, 5, 8]);
    expect(experts.weights.w1.shape).toEqual([4, 8, 16]);
    expect(block.trainableWeights).toHaveLength(4 + 4 + 1 + 4); // attention, norms, router kernel, w1 b1 w2 b2
    tf.dispose([x, y]);
  });

  it('keeps [B, S, D]; with causal attention a position never sees later ones', () => {
    const block = new TransformerMoEBlock({ numHeads: 2, causal: true, seed: 1, moe: moeArgs(8, 2) });
    const x = tf.randomNormal([2, 5, 8], 0, 1, 'float32', 3);
    const y = block.apply(x) as tf.Tensor;
    expect(y.shape).toEqual([2, 5, 8]);
    const changed = tf.concat([tf.slice(x, [0, 0, 0], [2, 3, 8]), tf.randomNormal([2, 2, 8], 0, 1, 'float32', 4)], 1); // positions 3, 4 differ
    const y2 = block.apply(changed) as tf.Tensor;
    expect(Array.from(tf.slice(y2, [0, 0, 0], [2, 3, 8]).dataSync())).toEqual(Array.from(tf.slice(y, [0, 0, 0], [2, 3, 8]).dataSync()));
    expect(Array.from(tf.slice(y2, [0, 3, 0], [2, 2, 8]).dataSync())).not.toEqual(Array.from(tf.slice(y, [0, 3, 0], [2, 2, 8]).dataSync()));
    // 4 attention kernels + 4 norm vectors + the MoE's router and 4 expert weights
    expect(block.trainableWeights).toHaveLength(4 + 4 + 1 + 4);
    tf.dispose([x, y, changed, y2]);
    block.dispose();
  });

  it('stacks in tf.sequential, trains with fit, and saves and loads to identical predictions', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'moekit-transformer-'));
    const model = tf.sequential({
      layers: [
        tf.layers.dense({ units: 8, inputShape: [6, 3] }),
        new TransformerMoEBlock({ numHeads: 2, seed: 5, moe: moeArgs(8, 6) }),
        new TransformerMoEBlock({ numHeads: 2, seed: 7, moe: moeArgs(8, 8) }),
        tf.layers.dense({ units: 1 }),
      ],
    });
    model.compile({ optimizer: tf.train.adam(0.01), loss: 'meanSquaredError' });
    // target: each position's first feature summed over the sequence (needs attention to solve)
    const x = tf.randomNormal([64, 6, 3], 0, 1, 'float32', 9);
    const y = tf.tile(tf.sum(tf.slice(x, [0, 0, 0], [-1, -1, 1]), 1, true), [1, 6, 1]);
    const history = await model.fit(x, y, { epochs: 15, batchSize: 32, verbose: 0 });
    const losses = history.history['loss'] as number[];
    expect(losses[losses.length - 1]).toBeLessThan(losses[0]! / 2);
    await model.save(fileSystem(dir));
    const restored = await tf.loadLayersModel(fileSystem(dir));
    const a = model.predict(x) as tf.Tensor;
    const b = restored.predict(x) as tf.Tensor;
    expect(Array.from(b.dataSync())).toEqual(Array.from(a.dataSync()));
    expect(restored.layers[1]).toBeInstanceOf(TransformerMoEBlock);
    tf.dispose([x, y, a, b]);
    model.dispose();
    restored.dispose();
    rmSync(dir, { recursive: true, force: true });
  }, 120_000);

  it('rejects a width the heads do not divide', () => {
    const block = new TransformerMoEBlock({ numHeads: 3, moe: moeArgs(8, 1) });
    expect(() => block.apply(tf.input({ shape: [4, 8] }))).toThrow("TransformerMoEBlock.build: argument 'inputShape' expected a width divisible by numHeads 3, got D = 8");
    expect(() => new TransformerMoEBlock({ numHeads: 0, moe: moeArgs(8, 1) })).toThrow("TransformerMoEBlock: argument 'numHeads' expected an integer >= 1, got 0");
  });
});

describe('TransformerMoEBlock sharing one expert bank (Bai et al. 2022, arXiv:2209.08326)', () => {
  it('counts the bank once, keeps its own router and norms per block, and reloads as one bank', async () => {
    const bank = new FeedForwardExperts({ numExperts: 4, inputDim: 8, hiddenDim: 16, seed: 7 });
    const block = (seed: number) => new TransformerMoEBlock({ numHeads: 2, seed, moe: { router: new LinearTopKRouter({ inputDim: 8, numExperts: 4, k: 2, seed: seed + 1 }), experts: bank, capacity: { train: 0, eval: 0 } } });
    const [first, second] = [block(1), block(11)];
    const model = tf.sequential({ layers: [tf.layers.inputLayer({ inputShape: [5, 8] }), first, second] });
    // per block: attention 4 × 64 + norms 4 × 8 + router 32 = 320; the bank 4 × (8·16 + 16 + 16·8 + 8) = 1120 once
    expect(model.countParams()).toBe(2 * 320 + 1120);
    expect(second.moe.sharesExpertsWith).toBe(first.moe.name);
    let saved: tf.io.ModelArtifacts | undefined;
    await model.save(tf.io.withSaveHandler(async (a) => { saved = a; return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } }; }));
    const loaded = await tf.loadLayersModel(tf.io.fromMemory(saved!));
    const [a, b] = [loaded.getLayer(first.name), loaded.getLayer(second.name)] as TransformerMoEBlock[];
    expect(b!.moe.experts).toBe(a!.moe.experts);
    expect(loaded.countParams()).toBe(model.countParams());
    const x = tf.randomNormal([2, 5, 8], 0, 1, 'float32', 9);
    const [p, q] = [model.predict(x) as tf.Tensor, loaded.predict(x) as tf.Tensor];
    expect(Array.from(q.dataSync())).toEqual(Array.from(p.dataSync()));
    tf.dispose([x, p, q]);
    model.dispose();
    expect(bank.isDisposed).toBe(true);
    loaded.dispose();
  });
});
