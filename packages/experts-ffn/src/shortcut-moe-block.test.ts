import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { MoEArgumentError } from '@moekit/core';
import { expectNoLeakedTensors, LinearExpertBank, LinearTopKRouter } from '@moekit/core/testing';
import './register.js';
import { ShortcutMoEBlock } from './shortcut-moe-block.js';

const D = 4;
const identity = [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]];

/** A block pair whose parts are told apart by hand-set weights: attention off, MLP = c₁, shared expert = c₂, MoE = identity. */
function wiredBlock(shortcutFrom: 'attention' | 'block') {
  const block = new ShortcutMoEBlock({
    numHeads: 2, hiddenDim: 3, shortcutFrom, seed: 1, name: `wired_${shortcutFrom}`,
    // one identity expert behind a 1-expert top-1 router: gate weight softmax([z]) = 1, so MoE(u) = u
    moe: { router: new LinearTopKRouter({ inputDim: D, numExperts: 1, k: 1, seed: 2 }), experts: new LinearExpertBank({ numExperts: 1, inputDim: D, weights: [identity] }), capacity: { train: 0, eval: 0 } },
  });
  tf.dispose(block.apply(tf.zeros([1, 1, D])) as tf.Tensor); // builds
  const set = (suffix: string, value: number[] | number[][]) => {
    const w = block.weights.find((v) => v.originalName.endsWith(`/${suffix}`))!;
    w.write(tf.tensor(value, w.shape as number[]));
  };
  for (const p of ['attn1', 'attn2']) set(`${p}_wo`, identity.map((r) => r.map(() => 0))); // MHA₁ = MHA₂ = 0
  set('mlp_w2', [[0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]]);
  set('mlp_b2', [4, 0, 0, 0]); // MLP(·) = c₁ = [4, 0, 0, 0]
  set('shared_w2', [[0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]]);
  set('shared_b2', [0, 0, 0, 10]); // SE(·) = c₂ = [0, 0, 0, 10]
  return block;
}

describe('ShortcutMoEBlock (ScMoE, Cai et al.)', () => {
  it('wires the MoE to block l − 1 and the shared expert to block l (hand-computed)', () => {
    const x = tf.tensor3d([[[1, 2, 3, 4]]]);
    // h₁ = x (attention off); x₁ = h₁ + c₁ = [5, 2, 3, 4]; h₂ = x₁; y = h₂ + c₂ + LN(s)
    // LN([1, 2, 3, 4]) = ([−1.5, −0.5, 0.5, 1.5]) / √1.25 = [−1.3416, −0.4472, 0.4472, 1.3416]
    // LN([5, 2, 3, 4]) = ([1.5, −1.5, −0.5, 0.5]) / √1.25 = [1.3416, −1.3416, −0.4472, 0.4472]
    const expected = {
      attention: [5 - 1.3416, 2 - 0.4472, 3 + 0.4472, 14 + 1.3416], // s = h₁ = x
      block: [5 + 1.3416, 2 - 1.3416, 3 - 0.4472, 14 + 0.4472], // s = x₁
    };
    for (const from of ['attention', 'block'] as const) {
      const block = wiredBlock(from);
      const y = block.apply(x) as tf.Tensor;
      Array.from(y.dataSync()).forEach((v, i) => expect(v).toBeCloseTo(expected[from][i]!, 3));
      tf.dispose(y);
      block.dispose();
    }
    x.dispose();
  });

  it('forwards the MoE weights and its aux loss, and leaks nothing', async () => {
    const block = new ShortcutMoEBlock({ hiddenDim: 8, numHeads: 2, seed: 3, moe: { router: new LinearTopKRouter({ inputDim: 8, numExperts: 4, k: 1, seed: 4 }), experts: new LinearExpertBank({ numExperts: 4, inputDim: 8, seed: 5 }) } });
    const x = tf.randomNormal([2, 5, 8], 0, 1, 'float32', 6);
    tf.dispose(block.apply(x) as tf.Tensor);
    // 2 × 4 attention kernels + 2 × 4 MLP tensors + 5 × 2 norm vectors + router kernel + expert kernel
    expect(block.trainableWeights).toHaveLength(8 + 8 + 10 + 2);
    expect(block.moe.auxLoss?.shape).toEqual([]);
    await expectNoLeakedTensors(() => tf.dispose(block.apply(x) as tf.Tensor));
    x.dispose();
  });

  it('saves and loads in a model with the same predictions', async () => {
    const model = tf.sequential({ layers: [new ShortcutMoEBlock({ inputShape: [5, 8], hiddenDim: 8, numHeads: 2, seed: 3, shortcutFrom: 'block', causal: true, moe: { router: new LinearTopKRouter({ inputDim: 8, numExperts: 4, k: 1, seed: 4 }), experts: new LinearExpertBank({ numExperts: 4, inputDim: 8, seed: 5 }) } })] });
    let saved: tf.io.ModelArtifacts | undefined;
    await model.save(tf.io.withSaveHandler(async (a) => { saved = a; return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } }; }));
    const loaded = await tf.loadLayersModel(tf.io.fromMemory(saved!));
    expect((loaded.layers[0] as ShortcutMoEBlock).shortcutFrom).toBe('block');
    const x = tf.randomNormal([2, 5, 8], 0, 1, 'float32', 7);
    const [p, q] = [model.predict(x) as tf.Tensor, loaded.predict(x) as tf.Tensor];
    expect(Array.from(q.dataSync())).toEqual(Array.from(p.dataSync()));
    tf.dispose([x, p, q]);
    model.dispose();
    loaded.dispose();
  });

  it('names bad arguments', () => {
    const moe = { router: new LinearTopKRouter({ inputDim: 8, numExperts: 2, k: 1 }), experts: new LinearExpertBank({ numExperts: 2, inputDim: 8 }) };
    expect(() => new ShortcutMoEBlock({ hiddenDim: 0, moe })).toThrow(new MoEArgumentError('ShortcutMoEBlock', 'hiddenDim', 'an integer >= 1', '0'));
    expect(() => new ShortcutMoEBlock({ hiddenDim: 8, shortcutFrom: 'mlp' as 'block', moe })).toThrow(new MoEArgumentError('ShortcutMoEBlock', 'shortcutFrom', "one of 'attention' | 'block'", "'mlp'"));
    const block = new ShortcutMoEBlock({ hiddenDim: 8, numHeads: 3, moe });
    expect(() => block.apply(tf.zeros([1, 2, 8]))).toThrow(new MoEArgumentError('ShortcutMoEBlock.build', 'inputShape', 'a width divisible by numHeads 3', 'D = 8'));
  });
});
