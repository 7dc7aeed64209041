import * as tf from '@tensorflow/tfjs';
import { MoEArgumentError } from '@moekit/core';
import { expectNoLeakedTensors } from '@moekit/core/testing';
import { describe, expect, it } from 'vitest';
import { balancedCapacities, solveBalancedAssignment, type BalancedAssignmentSolverOptions } from './balanced-assignment-solver.js';

// ---- host references: exact solvers for the balanced assignment (plain JS, test-only) ----

/** Σ_t scores[t][assignment[t]]. */
const totalScore = (scores: number[][], assignment: number[]) => assignment.reduce((sum, e, t) => sum + scores[t]![e]!, 0);

/** Exact optimum by enumerating every balanced assignment (T = 8, E = 4: 8! / 2!⁴ = 2520 of them). */
function bruteForceOptimum(scores: number[][]): number {
  const shares = balancedCapacities(scores.length, scores[0]!.length);
  let best = -Infinity;
  const visit = (t: number, sum: number) => {
    if (t === scores.length) {
      best = Math.max(best, sum);
      return;
    }
    shares.forEach((left, e) => {
      if (left === 0) return;
      shares[e]!--;
      visit(t + 1, sum + scores[t]![e]!);
      shares[e]!++;
    });
  };
  visit(0, 0);
  return best;
}

/**
 * Exact optimum with the Hungarian algorithm (Kuhn-Munkres with potentials, O(T³)) on the square
 * problem where expert e is repeated c_e times: the textbook reduction of a balanced assignment.
 */
function hungarianOptimum(scores: number[][]): number {
  const n = scores.length;
  const column: number[] = balancedCapacities(n, scores[0]!.length).flatMap((c, e) => new Array<number>(c).fill(e));
  const cost = (i: number, j: number) => -scores[i - 1]![column[j - 1]!]!;
  const u = new Array<number>(n + 1).fill(0);
  const v = new Array<number>(n + 1).fill(0);
  const match = new Array<number>(n + 1).fill(0); // column j → row
  const way = new Array<number>(n + 1).fill(0);
  for (let i = 1; i <= n; i++) {
    match[0] = i;
    let j0 = 0;
    const minv = new Array<number>(n + 1).fill(Infinity);
    const used = new Array<boolean>(n + 1).fill(false);
    do {
      used[j0] = true;
      const i0 = match[j0]!;
      let delta = Infinity;
      let j1 = 0;
      for (let j = 1; j <= n; j++) {
        if (used[j]) continue;
        const reduced = cost(i0, j) - u[i0]! - v[j]!;
        if (reduced < minv[j]!) {
          minv[j] = reduced;
          way[j] = j0;
        }
        if (minv[j]! < delta) {
          delta = minv[j]!;
          j1 = j;
        }
      }
      for (let j = 0; j <= n; j++) {
        if (used[j]) {
          u[match[j]!]! += delta;
          v[j]! -= delta;
        } else {
          minv[j]! -= delta;
        }
      }
      j0 = j1;
    } while (match[j0] !== 0);
    do {
      const j1 = way[j0]!;
      match[j0] = match[j1]!;
      j0 = j1;
    } while (j0 !== 0);
  }
  let total = 0;
  for (let j = 1; j <= n; j++) total += scores[match[j]! - 1]![column[j - 1]!]!;
  return total;
}

/** Deterministic N(0, 1) scores (mulberry32 + Box-Muller), so the measured gaps are reproducible. */
function normalScores(numTokens: number, numExperts: number, seed: number): number[][] {
  let state = seed >>> 0;
  const uniform = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let z = Math.imul(state ^ (state >>> 15), 1 | state);
    z = (z + Math.imul(z ^ (z >>> 7), 61 | z)) ^ z;
    return ((z ^ (z >>> 14)) >>> 0) / 4294967296;
  };
  const normal = () => Math.sqrt(-2 * Math.log(uniform() + 1e-12)) * Math.cos(2 * Math.PI * uniform());
  return Array.from({ length: numTokens }, () => Array.from({ length: numExperts }, normal));
}

/** Solves on the device and reads the result back (the test's read, not the solver's). */
function solve(scores: number[][], options?: BalancedAssignmentSolverOptions) {
  const input = tf.tensor2d(scores);
  const solution = solveBalancedAssignment(input, options);
  const out = { expert: Array.from(solution.expert.dataSync()), slot: Array.from(solution.slot.dataSync()), load: Array.from(solution.load.dataSync()), capacity: solution.capacity };
  tf.dispose([input, solution.expert, solution.slot, solution.load]);
  return out;
}

/** Every expert has exactly its share, and its tokens occupy slots 0 … c_e − 1 once each. */
function expectExactlyBalanced(result: ReturnType<typeof solve>, numTokens: number, numExperts: number) {
  const shares = balancedCapacities(numTokens, numExperts);
  expect(result.load).toEqual(shares);
  expect(result.capacity).toBe(Math.max(...shares));
  for (let e = 0; e < numExperts; e++) {
    const slots = result.slot.filter((_, t) => result.expert[t] === e).sort((a, b) => a - b);
    expect(slots).toEqual(Array.from({ length: shares[e]! }, (_, i) => i));
  }
}

describe('balancedCapacities', () => {
  it('gives ⌊T/E⌋ to every expert and one more to the first T mod E', () => {
    expect(balancedCapacities(8, 4)).toEqual([2, 2, 2, 2]); // 8 / 4 = 2
    expect(balancedCapacities(10, 4)).toEqual([3, 3, 2, 2]); // ⌊10/4⌋ = 2, 10 mod 4 = 2 extra
    expect(balancedCapacities(3, 4)).toEqual([1, 1, 1, 0]); // fewer tokens than experts
  });
});

describe('solveBalancedAssignment', () => {
  it('solves a tiny problem where greedy top-1 is unbalanced (hand-computed)', () => {
    // scores [T=4, E=2]; greedy top-1 = [0, 0, 0, 1]: expert 0 would take 3 of 4 tokens.
    // Balanced (2 each): Σ = Σ_t s_t0 + Σ_{t→1} (s_t1 − s_t0), with s_t1 − s_t0 = [−2, −0.5, −1, +2];
    // the two largest differences are tokens 3 (+2) and 1 (−0.5) → assignment [0, 1, 0, 1],
    // total 3 + 1.5 + 1 + 2 = 7.5 (the other five balanced assignments score 7, 6.5, 4.5, 4, 5.5).
    const scores = [[3, 1], [2, 1.5], [1, 0], [0, 2]];
    const result = solve(scores);
    expect(result.expert).toEqual([0, 1, 0, 1]);
    expect(result.slot).toEqual([0, 0, 1, 1]); // rank among the expert's tokens, in token order
    expect(result.load).toEqual([2, 2]);
    expect(totalScore(scores, result.expert)).toBe(7.5);
    expect(bruteForceOptimum(scores)).toBe(7.5);
  });

  it('balances exactly on random and adversarial problems, with remainders, on every path', () => {
    const cases: Array<[number, number]> = [[8, 4], [10, 4], [64, 8], [3, 4], [7, 1], [100, 8], [33, 5]];
    for (const [T, E] of cases) {
      const random = normalScores(T, E, 100 * T + E);
      expectExactlyBalanced(solve(random), T, E);
      // every token strongly prefers expert 0; then all scores tied
      expectExactlyBalanced(solve(random.map((row) => row.map((v, e) => (e === 0 ? v + 50 : v)))), T, E);
      expectExactlyBalanced(solve(random.map((row) => row.map(() => 1))), T, E);
      // no prices, one placement round, no swaps: the rank-matching fallback places the rest
      expectExactlyBalanced(solve(random, { sinkhornIterations: 0, placementRounds: 1, swapRounds: 0 }), T, E);
    }
  });

  it('the host references agree: Hungarian = brute force on 20 problems T = 8, E = 4', () => {
    for (let i = 0; i < 20; i++) {
      const scores = normalScores(8, 4, i);
      expect(hungarianOptimum(scores)).toBeCloseTo(bruteForceOptimum(scores), 9);
    }
  });

  it('is within 1 % of the exact optimum (measured gaps in the comment)', () => {
    // Gap = (optimum − ours) / |optimum| over N(0, 1) scores, defaults (20 Sinkhorn iterations, 2
    // placement rounds, 6 swap rounds: 1086 kernels at T = 64, E = 8), float32 on the cpu backend.
    // Measured when written:
    //   T = 8,   E = 4,  40 problems: optimal in 40 / 40                               (brute force)
    //   T = 64,  E = 8,  20 problems: worst 0.32 %, mean 0.059 %, optimal in 10 / 20   (Hungarian)
    //   T = 256, E = 16,  4 problems: worst 0.075 %, mean 0.040 %                      (Hungarian)
    // Ablations at T = 64 (worst / mean): no swaps 3.2 % / 1.3 %; no prices 1.4 % / 0.32 %; neither
    // 7.2 % / 3.8 %; 50 Sinkhorn iterations and 8 swap rounds (2008 kernels) 0.20 % / 0.014 %.
    const measure = (T: number, E: number, problems: number, exact: (s: number[][]) => number, options?: BalancedAssignmentSolverOptions) => {
      const gaps: number[] = [];
      for (let i = 0; i < problems; i++) {
        const scores = normalScores(T, E, 7919 * i + T);
        const ours = totalScore(scores, solve(scores, options).expert);
        const optimum = exact(scores);
        expect(ours).toBeLessThanOrEqual(optimum + 1e-4);
        gaps.push((optimum - ours) / Math.abs(optimum));
      }
      return { worst: Math.max(...gaps), mean: gaps.reduce((a, b) => a + b, 0) / gaps.length, optimal: gaps.filter((g) => g < 1e-6).length };
    };
    const small = measure(8, 4, 40, bruteForceOptimum);
    const medium = measure(64, 8, 20, hungarianOptimum);
    const large = measure(256, 16, 4, hungarianOptimum);
    console.log('balanced assignment gap vs exact:', JSON.stringify({ small, medium, large }));
    expect(small.worst).toBeLessThan(0.01);
    expect(medium.worst).toBeLessThan(0.01);
    expect(large.worst).toBeLessThan(0.01);
    expect(medium.mean).toBeLessThan(0.002);
    expect(small.optimal).toBe(40);
  });

  it('makes no host read, rejects bad arguments by name and leaks nothing', async () => {
    const input = tf.tensor2d(normalScores(16, 4, 1));
    const engine = tf.engine() as unknown as { readSync: (id: object) => unknown; read: (id: object) => Promise<unknown> };
    const { readSync, read } = engine;
    let reads = 0;
    engine.readSync = (id) => (reads++, readSync.call(engine, id));
    engine.read = (id) => (reads++, read.call(engine, id));
    let solution;
    try {
      solution = solveBalancedAssignment(input);
    } finally {
      engine.readSync = readSync;
      engine.read = read;
    }
    expect(reads).toBe(0);
    tf.dispose([solution.expert, solution.slot, solution.load]);
    await expectNoLeakedTensors(() => {
      const s = solveBalancedAssignment(input);
      tf.dispose([s.expert, s.slot, s.load]);
    });
    expect(() => solveBalancedAssignment(tf.zeros([4]) as never)).toThrow(MoEArgumentError);
    expect(() => solveBalancedAssignment(input, { overRelaxation: 2 })).toThrow("solveBalancedAssignment: argument 'overRelaxation' expected a number in (0, 2), got 2");
    expect(() => solveBalancedAssignment(input, { placementRounds: 0 })).toThrow("argument 'placementRounds' expected an integer >= 1, got 0");
    expect(() => solveBalancedAssignment(input, { temperatureStart: 0.1, temperatureEnd: 1 })).toThrow("argument 'temperatureEnd' expected a number <= temperatureStart (0.1), got 1");
    input.dispose();
  });
});
