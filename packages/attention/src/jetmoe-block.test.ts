import * as tf from '@tensorflow/tfjs';
import { componentConfig, fromComponentConfig, MoEArgumentError } from '@moekit/core';
import { expectNoLeakedTensors, expectTensorsClose } from '@moekit/core/testing';
import { describe, expect, it } from 'vitest';
import './register.js';
import { JetMoEBlock } from './jetmoe-block.js';

const dispose = (out: ReturnType<JetMoEBlock['apply']>) => tf.dispose([out.output, out.attentionLoad, out.mlpLoad, ...Object.values(out.auxLosses)]);

describe('JetMoEBlock', () => {
  it('names its weights, maps [B, S, D] to [B, S, D], counts each mixture’s load and leaks nothing', async () => {
    const block = new JetMoEBlock({ hiddenSize: 16, ffnHiddenSize: 12, numExperts: 4, k: 2, headDim: 4, seed: 1 });
    expect(block.namedVariables().map(([path, v]) => `${path} ${v.shape.join('x')}`)).toEqual([
      'mlpBias 16',
      'inputLayernorm/weight 16',
      'selfAttention/qProj 4x16x4',
      'selfAttention/kProj 16x4',
      'selfAttention/vProj 16x4',
      'selfAttention/oProj 4x4x16',
      'selfAttention/bias 16',
      'selfAttention/router/gate/kernel 16x4',
      'postAttentionLayernorm/weight 16',
      'mlp/router/gate/kernel 16x4',
      'mlp/experts/w1 4x16x12',
      'mlp/experts/v 4x16x12',
      'mlp/experts/w2 4x12x16',
    ]);
    const x = tf.randomNormal([2, 6, 16], 0, 1, 'float32', 2);
    dispose(block.apply(x, { training: true })); // prime
    await expectNoLeakedTensors(() => {
      const out = block.apply(x, { training: true });
      expect(out.output.shape).toEqual([2, 6, 16]);
      expect(Array.from(out.attentionLoad.dataSync()).reduce((a, b) => a + b, 0)).toBe(24); // T·K = 12·2
      expect(Array.from(out.mlpLoad.dataSync()).reduce((a, b) => a + b, 0)).toBe(24);
      const [total, attention, mlp] = [out.auxLosses.total, out.auxLosses['attention']!, out.auxLosses['mlp']!].map((t) => t.dataSync()[0]!);
      expect(total).toBeCloseTo(attention! + mlp!, 6);
      expect(attention).toBeGreaterThan(0);
      dispose(out);
    });
    x.dispose();
    block.dispose();
  });

  it('is causal, and at zero attention and FFN weights is the identity (residuals, zero biases)', () => {
    const block = new JetMoEBlock({ hiddenSize: 8, ffnHiddenSize: 8, numExperts: 2, k: 1, headDim: 4, initializerRange: 0.3, seed: 3 });
    const x = tf.randomNormal([1, 5, 8], 0, 1, 'float32', 4);
    const changed = tf.tidy(() => tf.add(x, tf.mul(tf.reshape(tf.oneHot(tf.tensor1d([3], 'int32'), 5), [1, 5, 1]), 5)));
    const [a, b] = [x, changed].map((input) => {
      const out = block.apply(input, { training: false });
      const rows = (out.output.arraySync() as number[][][])[0]!;
      dispose(out);
      return rows;
    });
    for (let s = 0; s < 3; s++) expect(a![s]).toEqual(b![s]);
    expect(Math.max(...a![3]!.map((v, i) => Math.abs(v - b![3]![i]!)))).toBeGreaterThan(1e-3);
    for (const [path, v] of block.namedVariables()) if (/oProj|experts\/w2/.test(path)) v.assign(tf.zerosLike(v));
    const out = block.apply(x, { training: false });
    expectTensorsClose(out.output, x, { atol: 1e-6 });
    dispose(out);
    tf.dispose([x, changed]);
    block.dispose();
  });

  it('saves and loads through the registry, and names a wrong input', () => {
    const block = new JetMoEBlock({ hiddenSize: 8, ffnHiddenSize: 6, numExperts: 3, k: 2, seed: 5 });
    const config = componentConfig(block, 'test', 'block');
    expect(config.package).toBe('@moekit/attention');
    const loaded = fromComponentConfig<JetMoEBlock>(config, 'test', 'block');
    expect(loaded.getConfig()).toEqual(block.getConfig());
    const source = new Map(block.namedVariables());
    for (const [path, v] of loaded.namedVariables()) v.assign(source.get(path)!);
    const x = tf.randomNormal([1, 4, 8], 0, 1, 'float32', 6);
    const [p, q] = [block, loaded].map((m) => m.apply(x, { training: false }));
    expectTensorsClose(q!.output, p!.output, { atol: 0 });
    const wrong = tf.zeros([1, 4, 5]);
    expect(() => block.apply(wrong, { training: false })).toThrow(MoEArgumentError);
    expect(() => block.apply(wrong, { training: false })).toThrow(/x.*last axis of 8 \(hiddenSize\)/s);
    tf.dispose([x, wrong]);
    dispose(p!);
    dispose(q!);
    block.dispose();
    loaded.dispose();
  });
});
