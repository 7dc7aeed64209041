import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { expectNoLeakedTensors } from '../testing/index.js';
import { loadBalancingConventions } from './load-balancing-conventions.js';
import { loadBalancingLoss, type LoadBalancingLossOptions } from './load-balancing-loss.js';

/** Golden values computed by scripts/golden/load_balancing_conventions.py from DeepSpeed's and HF's code (commits in its header). */
interface GoldenCase {
  numTokens: number;
  numExperts: number;
  k: number;
  probs: number[][];
  expertIndex: number[][];
  losses: { deepspeed: number; mixtral: number; switchHf: Record<string, { switchFirstChoice: number; switchAllChoices: number }> };
}
const golden = JSON.parse(readFileSync(new URL('../../../../scripts/golden/load_balancing_conventions.json', import.meta.url), 'utf8')) as { cases: GoldenCase[] };

function loss(probs: number[][], index: number[][], numExperts: number, options?: LoadBalancingLossOptions): number {
  return tf.tidy(() => loadBalancingLoss(tf.tensor2d(probs), tf.tensor2d(index, undefined, 'int32'), numExperts, options).dataSync()[0]!);
}

const relativeError = (actual: number, expected: number) => Math.abs(actual - expected) / Math.abs(expected);

// 4 tokens, 3 experts, 2 choices
const probs = [[0.7, 0.2, 0.1], [0.1, 0.6, 0.3], [0.5, 0.25, 0.25], [0.2, 0.2, 0.6]];
const index = [[0, 1], [1, 2], [0, 1], [2, 0]];

describe('loadBalancingLoss conventions (hand-computed)', () => {
  // P = column means = [1.5, 1.25, 1.25] / 4 = [0.375, 0.3125, 0.3125]
  // all choices: expert 0 ← tokens 0, 2, 3; expert 1 ← 0, 1, 2; expert 2 ← 1, 3 → f = [3, 3, 2] / 4 = [0.75, 0.75, 0.5]
  // Σ f·P = 0.28125 + 0.234375 + 0.15625 = 0.671875
  it("'mixtral' counts all choices: E · Σ f·P = 3 · 0.671875 = 2.015625 (K = 2 at perfect balance)", () => {
    expectNoLeakedTensors(() => expect(loss(probs, index, 3, { convention: 'mixtral' })).toBeCloseTo(2.015625, 6));
  });

  it("'deepspeed' divides that by K: 2.015625 / 2 = 1.0078125", () => {
    expect(loss(probs, index, 3, { convention: 'deepspeed' })).toBeCloseTo(1.0078125, 6);
  });

  it("'switch' is the default and counts first choices only (1.03125, see losses.test.ts)", () => {
    expect(loss(probs, index, 3, { convention: 'switch' })).toBeCloseTo(1.03125, 6);
    expect(loss(probs, index, 3, { convention: 'switch' })).toBe(loss(probs, index, 3));
  });

  it("'deepspeed' equals 'switch' at K = 1, and all are 1 (mixtral K) at perfect balance", () => {
    const first = index.map((row) => [row[0]!]);
    expect(loss(probs, first, 3, { convention: 'deepspeed' })).toBeCloseTo(loss(probs, first, 3), 7);
    const uniform = [[0.5, 0.5], [0.5, 0.5]];
    const both = [[0, 1], [1, 0]];
    expect(loss(uniform, both, 2, { convention: 'deepspeed' })).toBeCloseTo(1, 6);
    expect(loss(uniform, both, 2, { convention: 'mixtral' })).toBeCloseTo(2, 6);
  });

  it('numGroups: the mean of per-group losses over equal contiguous token groups (HF Switch)', () => {
    // group 0 = tokens 0, 1: first choices [0, 1] → f = [0.5, 0.5, 0]; P = [0.4, 0.4, 0.2]; 3 · (0.2 + 0.2) = 1.2
    // group 1 = tokens 2, 3: first choices [0, 2] → f = [0.5, 0, 0.5]; P = [0.35, 0.225, 0.425]; 3 · (0.175 + 0.2125) = 1.1625
    // mean = 1.18125
    expectNoLeakedTensors(() => expect(loss(probs, index, 3, { numGroups: 2 })).toBeCloseTo(1.18125, 6));
    expect(loss(probs, index, 3, { numGroups: 1 })).toBe(loss(probs, index, 3));
  });

  it('gradient reaches probs only: d/dprobs[t, i] = scale · f_i / T', () => {
    expectNoLeakedTensors(() => {
      const p = tf.tensor2d(probs);
      const e = tf.tensor2d(index, undefined, 'int32');
      const grad = tf.grad((q: tf.Tensor) => loadBalancingLoss(q as tf.Tensor2D, e, 3, { convention: 'deepspeed' }))(p);
      // scale E/K = 1.5; f = [0.75, 0.75, 0.5]; / T = 4 → [0.28125, 0.28125, 0.1875] in every row
      expect(Array.from(grad.dataSync())).toEqual(Array.from({ length: 4 }, () => [0.28125, 0.28125, 0.1875]).flat());
      tf.dispose([p, e, grad]);
    });
  });

  it('rejects an unknown convention, a non-divisor numGroups and misspelt options, by name', () => {
    expect(() => loss(probs, index, 3, { convention: 'gshard' as never })).toThrow("loadBalancingLoss: argument 'convention' expected one of 'switch' | 'deepspeed' | 'mixtral', got 'gshard'");
    expect(() => loss(probs, index, 3, { numGroups: 3 })).toThrow("loadBalancingLoss: argument 'numGroups' expected a divisor of the token count 4, got 3");
    expect(() => loss(probs, index, 3, { numGroups: 0 })).toThrow("loadBalancingLoss: argument 'numGroups'");
    expect(() => loss(probs, index, 3, { groups: 2 } as never)).toThrow("loadBalancingLoss: argument 'groups' expected one of the known options (convention, numGroups)");
  });

  it('every convention names its source', () => {
    for (const c of Object.values(loadBalancingConventions)) expect(c.source.length).toBeGreaterThan(10);
  });
});

describe('loadBalancingLoss conventions against the peers\' code (golden JSON)', () => {
  for (const c of golden.cases) {
    it(`T=${c.numTokens}, E=${c.numExperts}, K=${c.k}: DeepSpeed topkgating, HF Mixtral, HF Switch over 1/2/4 groups within 1e-6`, () => {
      expectNoLeakedTensors(() => {
        expect(relativeError(loss(c.probs, c.expertIndex, c.numExperts, { convention: 'deepspeed' }), c.losses.deepspeed)).toBeLessThanOrEqual(1e-6);
        expect(relativeError(loss(c.probs, c.expertIndex, c.numExperts, { convention: 'mixtral' }), c.losses.mixtral)).toBeLessThanOrEqual(1e-6);
        for (const [groups, hf] of Object.entries(c.losses.switchHf)) {
          const numGroups = Number(groups);
          expect(relativeError(loss(c.probs, c.expertIndex, c.numExperts, { numGroups }), hf.switchFirstChoice)).toBeLessThanOrEqual(1e-6);
          // HF Switch's mask counts every choice of a token: 'mixtral' per group
          expect(relativeError(loss(c.probs, c.expertIndex, c.numExperts, { convention: 'mixtral', numGroups }), hf.switchAllChoices)).toBeLessThanOrEqual(1e-6);
        }
      });
    });
  }
});
