import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import type { ExpertBank } from './contracts/expert-bank.js';
import { MixtureOfExperts } from './mixture-of-experts.js';
import { MoEDisposedError } from './util/errors.js';
import { expectNoLeakedTensors, expectTensorsClose, FixedRouter, LinearExpertBank, LinearTopKRouter } from './testing/index.js';

const probs = [[0.6, 0.4], [0.7, 0.3], [0.2, 0.8], [0.9, 0.1]];
const expertIndex = [[0, 1], [0, 1], [1, 0], [0, 1]];
// expert 0 doubles, expert 1 swaps the two features
const experts = () => new LinearExpertBank({ numExperts: 2, inputDim: 2, weights: [[[2, 0], [0, 2]], [[0, 1], [1, 0]]] });

function release(r: { output: tf.Tensor; auxLosses: Record<string, tf.Tensor> }) {
  tf.dispose([r.output, ...Object.values(r.auxLosses)]);
}

describe('MixtureOfExperts', () => {
  it('routes, runs the experts and combines (hand-computed)', () => {
    const moe = new MixtureOfExperts({ router: new FixedRouter({ probs, expertIndex }), experts: experts(), capacity: { train: 0.5 } });
    const x = tf.tensor2d([[1, 2], [3, 4], [5, 6], [7, 8]]);
    const r = moe.apply(x, { training: true });
    // capacity ceil(0.5 · 4 · 2 / 2) = 2; kept: t0 both, t1 first, t2 first, t3 none
    // t0 = 0.6 · 2·[1, 2] + 0.4 · swap[1, 2] = [1.2, 2.4] + [0.8, 0.4] = [2.0, 2.8]
    // t1 = 0.7 · [6, 8] = [4.2, 5.6];  t2 = 0.8 · swap[5, 6] = [4.8, 4.0];  t3 dropped = [0, 0]
    expectTensorsClose(r.output, [[2, 2.8], [4.2, 5.6], [4.8, 4], [0, 0]]);
    expect(r.metrics.load).toEqual([2, 2]);
    expect(r.metrics.droppedCount).toBe(4);
    expect(r.metrics.capacity).toBe(2);
    expect(moe.lastMetrics).toBe(r.metrics);
    expect(r.auxLosses.total.dataSync()[0]).toBe(0);
    // eval 'auto': dropless where the load is read on the host anyway (cpu, wasm: capacity = the largest
    // demand, 4 pairs per expert); 2.0 on a GPU backend's padded layout: ceil(2 · 4 · 2 / 2) = 8
    const evalRun = moe.apply(x, { training: false });
    const hostBackend = ['cpu', 'wasm'].includes(tf.getBackend());
    expect(moe.capacityFactor(false)).toBe(hostBackend || moe.resolveLayout() === 'grouped' ? 0 : 2);
    expect(evalRun.metrics.capacity).toBe(moe.capacityFactor(false) === 0 ? 4 : 8);
    expect(evalRun.metrics.droppedCount).toBe(0);
    release(r);
    release(evalRun);
    x.dispose();
    moe.dispose();
  });

  it("slotOrder 'tokenMajor' places each token's choices together (DeepSpeed topkgating), saved in config", () => {
    const moe = new MixtureOfExperts({ router: new FixedRouter({ probs, expertIndex }), experts: experts(), capacity: { train: 0.5 }, slotOrder: 'tokenMajor' });
    expect(moe.config.slotOrder).toBe('tokenMajor');
    expect(new MixtureOfExperts({ router: new FixedRouter({ probs, expertIndex }), experts: experts() }).config.slotOrder).toBe('choiceMajor');
    const x = tf.tensor2d([[1, 2], [3, 4], [5, 6], [7, 8]]);
    const r = moe.apply(x, { training: true });
    // capacity 2; t0 takes slot 0 of both experts, t1 slot 1 of both; t2 and t3 find both full
    // t0 = [2.0, 2.8] (as choice-major); t1 = 0.7 · [6, 8] + 0.3 · swap[3, 4] = [4.2, 5.6] + [1.2, 0.9] = [5.4, 6.5]
    expectTensorsClose(r.output, [[2, 2.8], [5.4, 6.5], [0, 0], [0, 0]]);
    expect(r.metrics.load).toEqual([2, 2]);
    release(r);
    x.dispose();
    moe.dispose();
    expect(() => new MixtureOfExperts({ router: new FixedRouter({ probs, expertIndex }), experts: experts(), slotOrder: 'tokenMajor', secondChoiceOffset: 'all' })).toThrow(
      "MixtureOfExperts: argument 'secondChoiceOffset' expected 'kept' (the default) with slotOrder 'tokenMajor'",
    );
  });

  it("adopts the router's capacity factors unless given its own", () => {
    const fixed = new FixedRouter({ probs, expertIndex });
    const router = Object.assign(Object.create(fixed) as FixedRouter, { capacity: { train: 0.5, eval: 3, preset: 'tutel' as const } });
    expect(new MixtureOfExperts({ router, experts: experts() }).config.capacity).toEqual({ train: 0.5, eval: 3, preset: 'tutel' });
    expect(new MixtureOfExperts({ router, experts: experts(), capacity: { eval: 1 } }).config.capacity).toEqual({ train: 0.5, eval: 1, preset: 'tutel' });
    expect(new MixtureOfExperts({ router: fixed, experts: experts() }).config.capacity).toEqual({ train: 1.25, eval: 'auto' });
  });

  it('gives the same output dropless and with capacity when nothing overflows', () => {
    const x = tf.randomNormal([32, 6], 0, 1, 'float32', 1);
    const outputs = [0, 4].map((factor) => {
      const moe = new MixtureOfExperts({
        router: new LinearTopKRouter({ inputDim: 6, numExperts: 4, k: 2, seed: 3 }),
        experts: new LinearExpertBank({ numExperts: 4, inputDim: 6, outputDim: 5, seed: 4 }),
        capacity: { train: factor }, // 4 → capacity ceil(4 · 32 · 2 / 4) = 64 ≥ any load
      });
      const r = moe.apply(x, { training: true });
      expect(r.metrics.droppedCount).toBe(0);
      tf.dispose(Object.values(r.auxLosses));
      moe.dispose();
      return r.output;
    });
    expectTensorsClose(outputs[0]!, outputs[1]!, { atol: 1e-6 });
    tf.dispose([x, ...outputs]);
  });

  it('gives the same output and gradients with grouped and padded layouts', () => {
    const x = tf.randomNormal([24, 6], 0, 1, 'float32', 21);
    const results = (['padded', 'grouped'] as const).map((layout) => {
      const moe = new MixtureOfExperts({
        router: new LinearTopKRouter({ inputDim: 6, numExperts: 4, k: 2, seed: 22 }),
        experts: new LinearExpertBank({ numExperts: 4, inputDim: 6, outputDim: 3, seed: 23 }),
        capacity: { train: 0.75 }, // drops on the path
        layout,
      });
      expect(moe.resolveLayout()).toBe(layout);
      const { value, grads } = tf.variableGrads(() => {
        const r = moe.apply(x, { training: true });
        return tf.add(tf.sum(tf.square(r.output)), r.auxLosses.total) as tf.Scalar;
      });
      const out = [value, ...moe.trainableVariables.map((v) => grads[v.name]!)];
      moe.dispose();
      return out;
    });
    results[0]!.forEach((t, i) => expectTensorsClose(results[1]![i]!, t, { atol: 1e-5 }));
    tf.dispose([x, ...results.flat()]);
  });

  it("'auto' picks grouped on the cpu backend when the bank offers it, padded otherwise", () => {
    const router = new FixedRouter({ probs, expertIndex });
    const doubling: ExpertBank = { numExperts: 2, trainableVariables: [], apply: (d) => tf.mul(d, 2), dispose: () => {} };
    expect(new MixtureOfExperts({ router, experts: experts() }).resolveLayout()).toBe('grouped');
    expect(new MixtureOfExperts({ router, experts: doubling }).resolveLayout()).toBe('padded');
    expect(() => new MixtureOfExperts({ router, experts: doubling, layout: 'grouped' })).toThrow(
      "MixtureOfExperts: argument 'layout' expected 'padded' or 'auto' (the expert bank has no applyGrouped), got 'grouped'",
    );
  });

  it('routes [B, S, D] per position, as the flattened [B·S, D]', () => {
    const make = () => new MixtureOfExperts({
      router: new LinearTopKRouter({ inputDim: 4, numExperts: 3, seed: 5 }),
      experts: new LinearExpertBank({ numExperts: 3, inputDim: 4, seed: 6 }),
    });
    const x = tf.randomNormal([2, 5, 4], 0, 1, 'float32', 2);
    const a = make();
    const b = make();
    const seq = a.apply(x, { training: false });
    const flat = tf.reshape(x, [10, 4]);
    const tok = b.apply(flat, { training: false });
    expect(seq.output.shape).toEqual([2, 5, 4]);
    expectTensorsClose(tf.reshape(seq.output, [10, 4]), tok.output, { atol: 1e-6 });
    release(seq);
    release(tok);
    tf.dispose([x, flat]);
    a.dispose();
    b.dispose();
  });

  it('routes per sample with a pooled gateInput: experts receive whole [S, D] samples', () => {
    const doubling: ExpertBank = { numExperts: 2, trainableVariables: [], apply: (d) => tf.mul(d, 2), dispose: () => {} };
    const moe = new MixtureOfExperts({ router: new FixedRouter({ probs: [[1, 0], [0, 1]], expertIndex: [[0], [1]] }), experts: doubling });
    const x = tf.randomNormal([2, 3, 4], 0, 1, 'float32', 7);
    const pooled = tf.mean(x, 1); // [B, D]
    const r = moe.apply(x, { training: true, gateInput: pooled });
    expectTensorsClose(r.output, tf.mul(x, 2));
    release(r);
    tf.dispose([x, pooled]);
  });

  it('rejects bad input with the argument, expected and actual value', () => {
    const router = new LinearTopKRouter({ inputDim: 2, numExperts: 2 });
    const moe = new MixtureOfExperts({ router, experts: experts(), checkFinite: true }); // eager checks, whatever the layout
    const ok = tf.tensor2d([[1, 2], [3, 4]]);
    const bad = {
      rank1: tf.tensor1d([1, 2]),
      width: tf.tensor2d([[1, 2, 3]]),
      nan: tf.tensor2d([[1, NaN], [3, 4]]),
      inf: tf.tensor2d([[1, 2], [Infinity, 4]]),
      gate3: tf.tensor2d([[1, 2], [3, 4], [5, 6]]),
    };
    expect(() => moe.apply(bad.rank1, { training: true })).toThrow("MixtureOfExperts.apply: argument 'x' expected rank >= 2, got rank 1 (shape [2])");
    expect(() => moe.apply(bad.width, { training: true })).toThrow("MixtureOfExperts.build: argument 'router' expected a router for gate inputs of width 3 (the input's), got LinearTopKRouter built for width 2");
    expect(() => moe.apply(bad.nan, { training: true })).toThrow("MixtureOfExperts.apply: argument 'x' expected finite values, got NaN at flat index 1 (shape [2, 2])");
    expect(() => moe.apply(bad.inf, { training: true })).toThrow("argument 'x' expected finite values, got Infinity at flat index 2");
    expect(() => moe.apply(ok, { training: true, gateInput: bad.gate3 })).toThrow("MixtureOfExperts.apply: argument 'gateInput' expected leading dims equal to x's [2] (same tokens T), got shape [3, 2]");
    // checkFinite 'auto' (the default) folds the same checks into the grouped layout's one read
    const folded = new MixtureOfExperts({ router, experts: experts(), layout: 'grouped' });
    expect(() => folded.apply(bad.nan, { training: true })).toThrow("MixtureOfExperts.apply: argument 'x' expected finite values, got NaN at flat index 1 (shape [2, 2])");
    const nanRouter = new MixtureOfExperts({ router: new FixedRouter({ probs: [[NaN, 1], [0, 1]], expertIndex: [[1], [1]] }), experts: experts(), layout: 'grouped' });
    expect(() => nanRouter.apply(ok, { training: true })).toThrow("MixtureOfExperts.apply (router output): argument 'logits' expected finite values, got NaN at flat index 0");
    expect(() => new MixtureOfExperts({ router, experts: new LinearExpertBank({ numExperts: 3, inputDim: 2 }) })).toThrow(
      "MixtureOfExperts: argument 'experts.numExperts' expected 2 (router.numExperts), got 3",
    );
    expect(() => new MixtureOfExperts({ router, experts: experts(), capacityFactor: 1 } as never)).toThrow("MixtureOfExperts: argument 'capacityFactor' expected one of the known options");
    expect(() => new LinearTopKRouter({ inputDim: 2, numExperts: 2, k: 3 })).toThrow("LinearTopKRouter: argument 'k' expected an integer in [1, 2], got 3");
    expect(() => new LinearTopKRouter({ inputDim: 2, numExperts: 0 })).toThrow("argument 'numExperts' expected an integer >= 1, got 0");
    const outOfRange = new MixtureOfExperts({ router: new FixedRouter({ probs: [[0.5, 0.5], [0.5, 0.5]], expertIndex: [[0], [2]] }), experts: experts(), layout: 'grouped' });
    expect(() => outOfRange.apply(ok, { training: true })).toThrow("MixtureOfExperts.apply (router output): argument 'expertIndex' expected values in [-1, 2) (-1 = choice not used), got 2 at flat index 1");
    tf.dispose([ok, ...Object.values(bad)]);
    moe.dispose();
  });

  it('leaks no tensors, in training and in evaluation', async () => {
    const moe = new MixtureOfExperts({
      router: new LinearTopKRouter({ inputDim: 4, numExperts: 4, k: 2 }),
      experts: new LinearExpertBank({ numExperts: 4, inputDim: 4 }),
    });
    const x = tf.randomNormal([2, 8, 4]);
    for (const training of [true, false]) {
      await expectNoLeakedTensors(async () => {
        const r = moe.apply(x, { training });
        await r.metrics.read(); // reading releases the metrics (on a GPU backend an evaluation's drop check reads them too)
        release(r);
      });
    }
    x.dispose();
    moe.dispose();
  });
});

describe('MixtureOfExperts at the edges (issue 17)', () => {
  it('bounds a huge capacity factor by the T·K pairs a call has, on both layouts', () => {
    const x = tf.tensor2d([[1, 2], [3, 4], [5, 6], [7, 8]]);
    const dropless = new MixtureOfExperts({ router: new FixedRouter({ probs, expertIndex }), experts: experts(), capacity: { train: 0 }, layout: 'padded' });
    const expected = dropless.apply(x, { training: true });
    for (const layout of ['padded', 'grouped'] as const) {
      for (const factor of [1e9, 1e308]) {
        const moe = new MixtureOfExperts({ router: new FixedRouter({ probs, expertIndex }), experts: experts(), capacity: { train: factor }, layout });
        const r = moe.apply(x, { training: true });
        // T·K = 4 · 2 = 8 pairs in all: no expert can be asked for more, so C = min(ceil(f·4·2/2), 8) = 8
        expect([layout, factor, r.metrics.capacity, r.metrics.droppedCount]).toEqual([layout, factor, 8, 0]);
        expectTensorsClose(r.output, Array.from(expected.output.arraySync() as number[][]));
        release(r);
        moe.dispose();
      }
    }
    // a router may ask one expert twice for a token: T = 2 slots would drop, T·K = 4 keeps all four pairs
    const twice = new MixtureOfExperts({ router: new FixedRouter({ probs: [[1, 0], [1, 0]], expertIndex: [[0, 0], [0, 0]] }), experts: experts(), capacity: { train: 1e9 }, layout: 'padded' });
    const r = twice.apply(tf.tensor2d([[1, 2], [3, 4]]), { training: true });
    expect([r.metrics.capacity, r.metrics.droppedCount, r.metrics.load]).toEqual([4, 0, [4, 0]]);
    expectTensorsClose(r.output, [[4, 8], [12, 16]]); // both choices of a token weight 1 · 2x
    release(r);
    release(expected);
    x.dispose();
  });

  it('returns an empty output, zero aux losses and empty metrics for an empty batch, leaking nothing', async () => {
    const moe = new MixtureOfExperts({ router: new LinearTopKRouter({ inputDim: 2, numExperts: 2, k: 2 }), experts: experts() });
    for (const shape of [[0, 2], [0, 3, 2], [3, 0, 2]]) {
      const x = tf.zeros(shape);
      for (const training of [true, false]) {
        const r = moe.apply(x, { training });
        expect(r.output.shape).toEqual(shape);
        expect(r.auxLosses.total.dataSync()[0]).toBe(0);
        expect(r.metrics.toJSON()).toEqual({ capacity: 0, load: [0, 0], needed: [0, 0], droppedCount: 0, droppedFraction: 0, importance: [0, 0], routerEntropy: 0, expertsPerToken: 0, tokensWithoutExpert: 0 });
        release(r);
      }
      await expectNoLeakedTensors(() => release(moe.apply(x, { training: true })));
      tf.dispose(tf.tidy(() => moe.apply(x, { training: true }).output)); // called inside a caller's tidy (as tfjs-layers does)
      expect(moe.lastMetrics!.load).toEqual([0, 0]); // the metrics outlive that tidy
      x.dispose();
    }
    moe.dispose();
    // eager finite checks on an empty tensor: nothing to check (tf.all of nothing is not read as true)
    const eager = new MixtureOfExperts({ router: new LinearTopKRouter({ inputDim: 2, numExperts: 2 }), experts: experts(), checkFinite: true });
    const empty = tf.zeros([0, 2]);
    const r = eager.apply(empty, { training: true, gateInput: empty });
    expect(r.output.shape).toEqual([0, 2]);
    release(r);
    empty.dispose();
    eager.dispose();
  });

  it('refuses use after dispose with a MoEDisposedError, leaking nothing', () => {
    const moe = new MixtureOfExperts({ router: new LinearTopKRouter({ inputDim: 2, numExperts: 2 }), experts: experts() });
    const x = tf.tensor2d([[1, 2], [3, 4]]);
    release(moe.apply(x, { training: true }));
    moe.dispose();
    const before = tf.memory().numTensors;
    expect(() => moe.apply(x, { training: true })).toThrow(MoEDisposedError);
    expect(() => moe.apply(x, { training: false })).toThrow('MixtureOfExperts.apply: this MixtureOfExperts was disposed');
    expect(tf.memory().numTensors).toBe(before);
    moe.dispose(); // idempotent
    x.dispose();
  });
});

describe('MixtureOfExperts options and widths (issue 18)', () => {
  it('rejects a misspelt apply option by name, listing the known ones, and a missing or non-boolean training', () => {
    const moe = new MixtureOfExperts({ router: new LinearTopKRouter({ inputDim: 2, numExperts: 2 }), experts: experts() });
    const x = tf.ones([3, 2]);
    expect(() => moe.apply(x, { train: true } as never)).toThrow("MixtureOfExperts.apply: argument 'train' expected one of the known options (training, gateInput), got unknown option 'train'");
    expect(() => moe.apply(x, undefined as never)).toThrow("MixtureOfExperts.apply: argument 'options' expected { training, gateInput? }, got undefined");
    expect(() => moe.apply(x, { training: 'yes' } as never)).toThrow("MixtureOfExperts.apply: argument 'options.training' expected true or false, got 'yes'");
    x.dispose();
    moe.dispose();
  });

  it('rejects an input of another width than the router or bank was built for at build, naming both', () => {
    const moe = new MixtureOfExperts({ router: new LinearTopKRouter({ inputDim: 2, numExperts: 2 }), experts: experts() });
    expect(() => moe.build([3])).toThrow("MixtureOfExperts.build: argument 'router' expected a router for gate inputs of width 3 (the input's), got LinearTopKRouter built for width 2");
    expect(() => moe.build([2, 3], 2)).toThrow("MixtureOfExperts.build: argument 'experts' expected an expert bank for per-token inputs [2, 3] (the input's), got LinearExpertBank built for [2]");
    // a bank built for the last axis takes [S, D] samples: only the trailing axes are compared
    expect(() => moe.build([5, 2])).not.toThrow();
    const x = tf.ones([4, 3]);
    expect(() => moe.apply(x, { training: false })).toThrow("MixtureOfExperts.build: argument 'router' expected a router for gate inputs of width 3 (the input's), got LinearTopKRouter built for width 2");
    x.dispose();
    moe.dispose();
  });
});
