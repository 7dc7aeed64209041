import * as tf from '@tensorflow/tfjs';
import { componentConfig, fromComponentConfig, MoEDisposedError, type Component } from '@moekit/core';
import { describe, expect, it } from 'vitest';
import './register.js';
import { HashGate } from './hash-gate.js';
import { HashGridEncoding } from './hash-grid-encoding.js';
import { HashGridExperts } from './hash-grid-experts.js';
import { Mlp } from './mlp.js';

const small = { numLevels: 2, log2TableSize: 6, baseResolution: 2, finestResolution: 8 };

describe('hash-grid components', () => {
  it('save and load through the registry: same class, same config, same variable names and shapes (fresh values)', () => {
    const components: Component[] = [
      new HashGridEncoding({ ...small, seed: 1 }),
      new Mlp({ inputDim: 4, hiddenDim: 3, outputDim: 2, seed: 2 }),
      new HashGate({ numExperts: 2, encoding: small, hiddenDim: 8, seed: 3 }),
      new HashGridExperts({ experts: [{ encoding: small, hiddenDim: 4 }, { encoding: { ...small, numLevels: 3 } }], seed: 4 }),
    ];
    for (const original of components) {
      const saved = componentConfig(original, 'test', 'component');
      expect(saved.package).toBe('@moekit/experts-hash-nerf');
      const loaded = fromComponentConfig<Component>(JSON.parse(JSON.stringify(saved)), 'test', 'component');
      expect(loaded.getClassName()).toBe(original.getClassName());
      expect(loaded.getConfig()).toEqual(original.getConfig());
      expect(loaded.namedVariables().map(([name, v]) => [name, v.shape])).toEqual(original.namedVariables().map(([name, v]) => [name, v.shape]));
      loaded.dispose();
    }
    expect(components[2]!.namedVariables().map(([name]) => name)).toEqual(['encoding/table', 'mlp/w1', 'mlp/b1', 'mlp/w2', 'mlp/b2']);
    expect(components[3]!.namedVariables().map(([name]) => name).slice(0, 6)).toEqual(['encodings/0/table', 'decoders/0/w1', 'decoders/0/b1', 'decoders/0/w2', 'decoders/0/b2', 'encodings/1/table']);
    expect(components[2]!.getConfig()).toEqual({ numExperts: 2, encoding: small, hiddenDim: 8, balanceWeight: 0.01, seed: 3 });
    components.forEach((c) => c.dispose());
  });

  it('throw MoEDisposedError once disposed, having released every variable (theirs and their parts)', () => {
    const before = tf.memory().numTensors;
    const gate = new HashGate({ numExperts: 2, encoding: small, seed: 1 });
    const experts = new HashGridExperts({ experts: [{ encoding: small }, { encoding: small }], seed: 2 });
    const encoding = new HashGridEncoding(small);
    gate.dispose();
    experts.dispose();
    encoding.dispose();
    expect(tf.memory().numTensors).toBe(before);
    const points = tf.zeros([2, 3]) as tf.Tensor2D;
    expect(() => gate.route(points, { training: false })).toThrow(MoEDisposedError);
    expect(() => gate.owners(points)).toThrow('HashGate.owners: this HashGate was disposed');
    expect(() => experts.applyGrouped(points, [1, 1])).toThrow('HashGridExperts.applyGrouped: this HashGridExperts was disposed');
    expect(() => encoding.apply(points)).toThrow('HashGridEncoding.apply: this HashGridEncoding was disposed');
    expect(() => gate.mlp.apply(points)).toThrow('Mlp.apply: this Mlp was disposed');
    points.dispose();
  });
});
