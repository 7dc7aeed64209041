import * as tf from '@tensorflow/tfjs';
import { MoEArgumentError } from '@moekit/core';
import { expectNoLeakedTensors } from '@moekit/core/testing';
import { describe, expect, it } from 'vitest';
import { RotaryEmbedding } from './rotary-embedding.js';

describe('RotaryEmbedding', () => {
  it('rotates a 4-dim vector at position 1 as HF apply_rotary_pos_emb does (by hand)', async () => {
    const rope = new RotaryEmbedding({ headDim: 4, theta: 100 });
    const x = tf.tensor4d([1, 2, 3, 4, 1, 2, 3, 4], [1, 1, 2, 4]); // the same vector at positions 0 and 1
    // inv_freq = [100^0, 100^(−2/4)] = [1, 0.1]; angles at m = 1: cat([1, 0.1], [1, 0.1]); rotate_half(x) = [−3, −4, 1, 2]
    // y = x·cos + rotate_half(x)·sin = [cos 1 − 3 sin 1, 2 cos .1 − 4 sin .1, 3 cos 1 + sin 1, 4 cos .1 + 2 sin .1]
    //   = [−1.984111, 1.590675, 2.462378, 4.179684]
    const expected = [-1.984111, 1.590675, 2.462378, 4.179684];
    await expectNoLeakedTensors(() => {
      const rotated = rope.apply(x);
      const y = rotated.arraySync()[0]![0]!;
      rotated.dispose();
      y[0]!.forEach((v, i) => expect(v).toBeCloseTo([1, 2, 3, 4][i]!, 6)); // position 0: no rotation
      y[1]!.forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 5));
    });
    x.dispose();
  });

  it('keeps the norm of each rotated pair and starts at `offset`', () => {
    const rope = new RotaryEmbedding({ headDim: 4, theta: 100 });
    const x = tf.tensor4d([1, 2, 3, 4], [1, 1, 1, 4]);
    const rotated = rope.apply(x, 1);
    const y = rotated.arraySync()[0]![0]![0]!;
    rotated.dispose();
    expect(y[0]).toBeCloseTo(-1.984111, 5);
    expect(Math.hypot(y[0]!, y[2]!)).toBeCloseTo(Math.hypot(1, 3), 5); // dims i and i + d/2 rotate together
    x.dispose();
  });

  it('names an odd head width and a wrong input', () => {
    expect(() => new RotaryEmbedding({ headDim: 5 })).toThrow(/headDim.*even.*5/s);
    const rope = new RotaryEmbedding({ headDim: 4 });
    const x = tf.zeros([1, 2, 4]);
    expect(() => rope.apply(x)).toThrow(MoEArgumentError);
    expect(() => rope.apply(x)).toThrow(/x.*rank 4/s);
    x.dispose();
  });
});
