import * as tf from '@tensorflow/tfjs';
import { MoEArgumentError, MoEDisposedError, type ExpertBank } from '@moekit/core';
import { ConvExperts } from '@moekit/experts-conv';
import { FeedForwardExperts } from '@moekit/experts-ffn';
import { HashGridExperts } from '@moekit/experts-hash-nerf';
import { describe, expect, it } from 'vitest';
import { failure } from './failure.js';

// The boundary every expert bank keeps: buffers of the wrong rank, expert count or feature width are an
// MoEArgumentError naming 'dispatched' and the shape; use after dispose() is an MoEDisposedError;
// neither path leaks a tensor. README "Errors" sections cite this file.

const banks: [string, () => ExpertBank, number[], number[][]][] = [
  // name, bank (E = 2), a good [E, C, ...in] buffer, bad buffers
  ['FeedForwardExperts', () => new FeedForwardExperts({ numExperts: 2, inputDim: 3, hiddenDim: 4, seed: 1 }), [2, 2, 3], [[2, 3], [3, 2, 3], [2, 2, 4]]],
  ['ConvExperts', () => new ConvExperts({ numExperts: 2, inputChannels: 3, width: 4, seed: 2 }), [2, 1, 4, 4, 3], [[2, 4, 4, 3], [3, 1, 4, 4, 3], [2, 1, 4, 4, 5]]],
  ['HashGridExperts', () => new HashGridExperts({ experts: [{}, {}], seed: 3 }), [2, 2, 3], [[2, 3], [3, 2, 3], [2, 2, 4]]],
];

describe('every expert bank rejects a bad buffer and use after dispose by name, leaking nothing', () => {
  for (const [name, make, good, bads] of banks) {
    it(name, async () => {
      await tf.setBackend('cpu');
      const bank = make();
      const x = tf.randomUniform(good, 0, 1, 'float32', 1);
      tf.dispose(bank.apply(x, { training: false }));
      for (const shape of bads) {
        const bad = tf.zeros(shape);
        const { error, leaked } = failure(() => bank.apply(bad, { training: false }));
        expect(error).toBeInstanceOf(MoEArgumentError);
        expect((error as Error).message).toContain(`${name}.apply: argument 'dispatched'`);
        expect((error as Error).message).toContain(`[${shape.join(', ')}]`);
        expect(leaked).toBe(0);
        bad.dispose();
      }
      bank.dispose();
      const { error, leaked } = failure(() => bank.apply(x, { training: false }));
      expect(error).toBeInstanceOf(MoEDisposedError);
      expect((error as Error).message).toContain(`${name}.apply: this ${name} was disposed`);
      expect(leaked).toBe(0);
      x.dispose();
    });
  }
});
