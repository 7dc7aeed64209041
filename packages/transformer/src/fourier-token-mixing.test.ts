import * as tf from '@tensorflow/tfjs';
import { MoEArgumentError, MoEDisposedError } from '@moekit/core';
import { expectNoLeakedTensors } from '@moekit/core/testing';
import { describe, expect, it } from 'vitest';
import { FourierTokenMixing } from './fourier-token-mixing.js';

/** Re(Σ_{m,n} x[m][n]·e^{−2πi(jm/S + kn/D)}) by the double sum, in float64: the 2D DFT's real part by definition. */
function dftReal(x: number[][]): number[][] {
  const S = x.length;
  const D = x[0]!.length;
  return Array.from({ length: S }, (_, j) =>
    Array.from({ length: D }, (_, k) => {
      let re = 0;
      for (let m = 0; m < S; m++) for (let n = 0; n < D; n++) re += x[m]![n]! * Math.cos(2 * Math.PI * ((j * m) / S + (k * n) / D));
      return re;
    }),
  );
}

const expectClose = (actual: number[][], expected: number[][], digits: number) => actual.forEach((row, i) => row.forEach((v, j) => expect(v).toBeCloseTo(expected[i]![j]!, digits)));

describe('FourierTokenMixing', () => {
  it('mixes a 2 × 2 input by hand (FNet Eq. 3)', async () => {
    const mixing = new FourierTokenMixing({});
    const x = tf.tensor3d([[[1, 2], [3, 4]]]);
    // F_2 = C_2 = [[1, 1], [1, −1]], S_2 = 0 → C·X = [[4, 6], [−2, −2]] → ·C = [[10, −2], [−4, 0]]
    await expectNoLeakedTensors(() => {
      const y = mixing.apply(x);
      expect(y.shape).toEqual([1, 2, 2]);
      expectClose((y.arraySync() as number[][][])[0]!, [[10, -2], [-4, 0]], 5);
      y.dispose();
    });
    x.dispose();
    mixing.dispose();
  });

  it('mixes a 4 × 2 input by hand, each sample of a batch on its own', () => {
    const mixing = new FourierTokenMixing({});
    const x = tf.tensor3d([
      [[1, 2], [0, 1], [3, 0], [1, 1]],
      [[0, 0], [0, 0], [0, 0], [0, 0]],
    ]);
    // X·C_2 (rows a+b, a−b) = [[3, −1], [1, −1], [3, 3], [2, 0]] = r0..r3
    // C_4 rows: [1, 1, 1, 1], [1, 0, −1, 0], [1, −1, 1, −1], [1, 0, −1, 0]; S_2 = 0 so the sine term vanishes
    // → [r0+r1+r2+r3, r0−r2, r0−r1+r2−r3, r0−r2] = [[9, 1], [0, −4], [3, 3], [0, −4]]
    const y = mixing.apply(x).arraySync() as number[][][];
    expectClose(y[0]!, [[9, 1], [0, -4], [3, 3], [0, -4]], 5);
    expectClose(y[1]!, [[0, 0], [0, 0], [0, 0], [0, 0]], 6);
    x.dispose();
    mixing.dispose();
  });

  it('equals the real part of the 2D DFT double sum where the sine term matters (3 × 5)', () => {
    const mixing = new FourierTokenMixing({});
    const values = [[0.5, -1, 2, 0.25, 1], [1.5, 0, -0.5, 2, -2], [-1, 1, 0.75, 0, 0.5]];
    const x = tf.tensor3d([values]);
    const y = mixing.apply(x).arraySync() as number[][][];
    expectClose(y[0]!, dftReal(values), 4);
    x.dispose();
    mixing.dispose();
  });

  it('names a wrong rank and use after dispose; releases its cached matrices', () => {
    const mixing = new FourierTokenMixing({});
    const x = tf.zeros([2, 3]);
    expect(() => mixing.apply(x)).toThrow(MoEArgumentError);
    expect(() => mixing.apply(x)).toThrow(/FourierTokenMixing\.apply.*x/s);
    expect(() => new FourierTokenMixing({ size: 3 } as never)).toThrow(/size/);
    const x3 = tf.ones([1, 3, 4]);
    mixing.apply(x3).dispose(); // caches C, S for 3 and for 4
    const before = tf.memory().numTensors;
    mixing.dispose();
    expect(tf.memory().numTensors).toBe(before - 4);
    expect(() => mixing.apply(x3)).toThrow(MoEDisposedError);
    tf.dispose([x, x3]);
  });
});
