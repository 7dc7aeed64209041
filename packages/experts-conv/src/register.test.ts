import * as tf from '@tensorflow/tfjs';
import { componentConfig, fromComponentConfig, MoEDisposedError, type Component } from '@moekit/core';
import { describe, expect, it } from 'vitest';
import './register.js';
import { ConvExperts } from './conv-experts.js';
import { ConvGate } from './conv-gate.js';
import { GapGate } from './gap-gate.js';
import { ImageRouter } from './image-router.js';
import { MoEConv2D } from './moe-conv2d.js';

describe('conv components', () => {
  it('save and load through the registry: same class, same config, same variable names and shapes (fresh values)', () => {
    const components: Component[] = [
      new ConvExperts({ numExperts: 2, inputChannels: 3, width: 4, outputChannels: 5, seed: 1 }),
      new GapGate(),
      new ConvGate({ inputChannels: 3, filters: 4, stride: 2, seed: 2 }),
      new ImageRouter({ numExperts: 2, gate: new ConvGate({ inputChannels: 1, filters: 4, seed: 3 }), gateDim: 4, estimator: 'gate', seed: 4 }),
      new MoEConv2D({ numExperts: 2, inputChannels: 1, expertChannels: 3, useBias: true, seed: 5 }),
    ];
    for (const original of components) {
      const saved = componentConfig(original, 'test', 'component');
      expect(saved.package).toBe('@moekit/experts-conv');
      const loaded = fromComponentConfig<Component>(JSON.parse(JSON.stringify(saved)), 'test', 'component');
      expect(loaded.getClassName()).toBe(original.getClassName());
      expect(loaded.getConfig()).toEqual(original.getConfig());
      expect(loaded.namedVariables().map(([name, v]) => [name, v.shape, v.trainable])).toEqual(original.namedVariables().map(([name, v]) => [name, v.shape, v.trainable]));
      loaded.dispose();
    }
    const [experts, , , router] = components as [ConvExperts, GapGate, ConvGate, ImageRouter];
    expect(experts.namedVariables().map(([name]) => name)).toEqual([
      'conv0/kernel', 'conv0/gamma', 'conv0/beta', 'conv0/movingMean', 'conv0/movingVariance',
      'conv1/kernel', 'conv1/gamma', 'conv1/beta', 'conv1/movingMean', 'conv1/movingVariance', 'projection',
    ]);
    expect(experts.trainableVariables.map((v) => v.shape)).toEqual([[2, 3, 3, 3, 4], [2, 4], [2, 4], [2, 3, 3, 4, 5], [2, 5], [2, 5], [2, 1, 1, 3, 5]]);
    expect(experts.variables).toHaveLength(11);
    expect(router.namedVariables().map(([name]) => name)).toEqual(['kernel', 'bias', 'gate/kernel', 'gate/bias']);
    components.forEach((c) => c.dispose());
  });

  it('throw MoEDisposedError once disposed, having released every variable', () => {
    const before = tf.memory().numTensors;
    const experts = new ConvExperts({ numExperts: 2, inputChannels: 2, width: 2 });
    const gate = new ConvGate({ inputChannels: 1, filters: 2 });
    const router = new ImageRouter({ numExperts: 2, gate, gateDim: 2 });
    const conv = new MoEConv2D({ numExperts: 2, inputChannels: 1, expertChannels: 2 });
    const gap = new GapGate();
    for (const c of [experts, router, conv, gap]) c.dispose();
    expect(tf.memory().numTensors).toBe(before);
    const images = tf.zeros([2, 4, 4, 1]);
    const rows = tf.zeros([2, 4, 4, 2]);
    expect(() => experts.applyGrouped(rows, [1, 1], { training: false })).toThrow('ConvExperts.applyGrouped: this ConvExperts was disposed');
    expect(() => router.route(images)).toThrow('ImageRouter.route: this ImageRouter was disposed');
    expect(() => gate.apply(images)).toThrow('ConvGate.apply: this ConvGate was disposed');
    expect(() => gap.apply(images)).toThrow(MoEDisposedError);
    const selection = { scores: tf.zeros([2, 2]) as tf.Tensor2D, expertIndex: tf.zeros([2], 'int32') as tf.Tensor1D, weights: tf.zeros([2, 2]) as tf.Tensor2D };
    expect(() => conv.apply(images, selection)).toThrow('MoEConv2D.apply: this MoEConv2D was disposed');
    tf.dispose([images, rows, selection.scores, selection.expertIndex, selection.weights]);
  });
});
