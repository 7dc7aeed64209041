import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { MixtureOfExperts } from '../mixture-of-experts.js';
import { expectNoLeakedTensors, expectTensorsClose, FixedRouter, LinearExpertBank } from '../testing/index.js';
import { MoEArgumentError } from '../util/errors.js';
import { SeedStream } from '../util/seed-stream.js';
import { drawKeepMask } from './expert-output-masking.js';
import { FinalOutputMasking } from './final-output-masking.js';

const probs = [[0.6, 0.4], [0.7, 0.3], [0.2, 0.8], [0.9, 0.1]];
const expertIndex = [[0, 1], [0, 1], [1, 0], [0, 1]];
const experts = () => new LinearExpertBank({ numExperts: 2, inputDim: 2, weights: [[[2, 0], [0, 2]], [[0, 1], [1, 0]]] });
// dropless outputs for x = [[1, 2], [3, 4], [5, 6], [7, 8]] (see expert-output-masking.test.ts):
// t0 [1.2 + 0.8, 2.4 + 0.4] = [2, 2.8]; t1 [5.4, 6.5]; t2 [6.8, 6.4]; t3 [13.4, 15.1]
const full = [[2, 2.8], [5.4, 6.5], [6.8, 6.4], [13.4, 15.1]];

describe('FinalOutputMasking', () => {
  it('zeroes whole tokens of the combined output, kept ones scaled by 1/(1 − p) (fixed mask, hand-computed)', () => {
    const moe = new MixtureOfExperts({ router: new FixedRouter({ probs, expertIndex }), experts: experts(), capacity: { train: 0 }, finalOutputMasking: { rate: 0.5, seed: 1 } });
    const x = tf.tensor2d([[1, 2], [3, 4], [5, 6], [7, 8]]);
    const r = moe.apply(x, { training: true });
    const keep = (drawKeepMask([4, 1], 0.5, new SeedStream(1).next()).arraySync() as number[][]).map((row) => row[0]!);
    expect(keep.includes(0) && keep.includes(1)).toBe(true); // this seed drops some tokens, keeps others
    expectTensorsClose(r.output, full.map((row, t) => row.map((v) => (keep[t]! * v) / 0.5)));
    const e = moe.apply(x, { training: false });
    expectTensorsClose(e.output, full); // evaluation: the identity
    tf.dispose([r.output, e.output, x, ...Object.values(r.auxLosses), ...Object.values(e.auxLosses)]);
    moe.dispose();
  });

  it('masks every feature of a token at once on [T, S, D] outputs, and leaks nothing', async () => {
    await expectNoLeakedTensors(() => {
      const fom = new FinalOutputMasking({ rate: 0.3, seed: 2 });
      const y = tf.ones([64, 3, 4]);
      const masked = fom.mask(y, true);
      const flat = tf.reshape(masked, [64, 12]);
      const perToken = flat.arraySync() as number[][];
      flat.dispose();
      for (const row of perToken) expect(new Set(row.map((v) => v.toFixed(4)))).toEqual(new Set([row[0]! === 0 ? '0.0000' : (1 / 0.7).toFixed(4)]));
      tf.dispose([y, masked]);
    });
  });

  it('defaults to rate 0.1, is saved in the config and rejects a bad rate by name', () => {
    const moe = new MixtureOfExperts({ router: new FixedRouter({ probs, expertIndex }), experts: experts(), finalOutputMasking: {} });
    expect(moe.config.finalOutputMasking).toEqual({ rate: 0.1, scaling: 'inverted' });
    expect(() => new FinalOutputMasking({ rate: -0.1 })).toThrow(MoEArgumentError);
    expect(() => new FinalOutputMasking({ rate: -0.1 })).toThrow(/FinalOutputMasking.*rate/s);
  });
});
