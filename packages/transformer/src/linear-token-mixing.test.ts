import * as tf from '@tensorflow/tfjs';
import { MoEArgumentError, MoEDisposedError } from '@moekit/core';
import { expectNoLeakedTensors } from '@moekit/core/testing';
import { describe, expect, it } from 'vitest';
import { LinearTokenMixing } from './linear-token-mixing.js';

describe('LinearTokenMixing', () => {
  it('computes W_seq · X · W_hidden by hand (the reference einsum bij,jk,ni->bnk)', async () => {
    const mixing = new LinearTokenMixing({ seqLen: 2, hiddenSize: 2 });
    mixing.namedVariables().find(([n]) => n === 'inputKernel')![1].assign(tf.tensor2d([[1, 2], [0, 1]]));
    mixing.namedVariables().find(([n]) => n === 'hiddenKernel')![1].assign(tf.tensor2d([[1, 0], [1, 1]]));
    const x = tf.tensor3d([[[1, 2], [3, 4]], [[1, 0], [0, 0]]]);
    // sample 0: W_seq·X = [[1+6, 2+8], [3, 4]] = [[7, 10], [3, 4]]; ·W_hidden = [[7+10, 10], [3+4, 4]] = [[17, 10], [7, 4]]
    // sample 1: W_seq·X = [[1, 0], [0, 0]]; ·W_hidden = [[1, 0], [0, 0]]
    await expectNoLeakedTensors(() => {
      const y = mixing.apply(x);
      expect(y.shape).toEqual([2, 2, 2]);
      expect(y.arraySync()).toEqual([[[17, 10], [7, 4]], [[1, 0], [0, 0]]]);
      y.dispose();
    });
    x.dispose();
    mixing.dispose();
  });

  it('with mixHidden: false applies only the [S, S] token matrix, and has no hiddenKernel', () => {
    const mixing = new LinearTokenMixing({ seqLen: 3, hiddenSize: 2, mixHidden: false });
    expect(mixing.namedVariables().map(([n, v]) => [n, v.shape])).toEqual([['inputKernel', [3, 3]]]);
    mixing.namedVariables()[0]![1].assign(tf.tensor2d([[0, 0, 1], [1, 0, 0], [0.5, 0.5, 0]]));
    const x = tf.tensor3d([[[1, 2], [3, 4], [5, 6]]]);
    // rows: x2 = [5, 6]; x0 = [1, 2]; (x0 + x1)/2 = [2, 3]
    expect(mixing.apply(x).arraySync()).toEqual([[[5, 6], [1, 2], [2, 3]]]);
    x.dispose();
    mixing.dispose();
  });

  it('draws its matrices from the seed with std initializerRange', () => {
    const a = new LinearTokenMixing({ seqLen: 16, hiddenSize: 16, initializerRange: 0.5, seed: 3 });
    const b = new LinearTokenMixing({ seqLen: 16, hiddenSize: 16, initializerRange: 0.5, seed: 3 });
    const [ka, kb] = [a, b].map((m) => m.namedVariables()[0]![1].dataSync());
    expect(Array.from(ka!)).toEqual(Array.from(kb!));
    const std = Math.sqrt(Array.from(ka!).reduce((s, v) => s + v * v, 0) / ka!.length);
    expect(std).toBeGreaterThan(0.4);
    expect(std).toBeLessThan(0.6);
    a.dispose();
    b.dispose();
  });

  it('names a wrong shape, bad arguments and use after dispose', () => {
    const mixing = new LinearTokenMixing({ seqLen: 4, hiddenSize: 2 });
    const x = tf.zeros([1, 3, 2]);
    expect(() => mixing.apply(x)).toThrow(MoEArgumentError);
    expect(() => mixing.apply(x)).toThrow(/LinearTokenMixing\.apply.*x.*\[B, 4, 2\].*\[1, 3, 2\]/s);
    expect(() => new LinearTokenMixing({ seqLen: 0, hiddenSize: 2 })).toThrow(/seqLen/);
    mixing.dispose();
    expect(() => mixing.apply(x)).toThrow(MoEDisposedError);
    x.dispose();
  });
});
