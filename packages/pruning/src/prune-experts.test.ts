import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { expectTokenChoice, MixtureOfExperts, MoEArgumentError, MoEDisposedError, requireCapability, type Router } from '@moekit/core';
import { MoELayer } from '@moekit/layers';
import { expectNoLeakedTensors, LinearExpertBank, LinearTopKRouter } from '@moekit/core/testing';
import { FeedForwardExperts, SharedExpert } from '@moekit/experts-ffn';
import { BatchPriorityRouter } from '@moekit/router-batch-priority';
import { SwitchRouter } from '@moekit/router-switch';
import { HierarchicalTopKRouter, TopKRouter } from '@moekit/router-topk';
import { keepExperts } from './keep-experts.js';
import { pruneExperts } from './prune-experts.js';

const D = 8;
const E = 6;
const T = 48;

function choices(router: Router, x: tf.Tensor2D): number[][] {
  const out = expectTokenChoice(router.route(x, { training: false }), 'test');
  const index = out.expertIndex.arraySync();
  tf.dispose([out.logits, out.probs, out.expertIndex, out.priority, ...Object.values(out.auxLosses)]);
  return index;
}

function outputRows(moe: MixtureOfExperts, x: tf.Tensor): number[][] {
  const { output, auxLosses } = moe.apply(x, { training: false });
  const rows = output.arraySync() as number[][];
  tf.dispose([output, ...Object.values(auxLosses)]);
  return rows;
}

/** Rows of tokens whose chosen experts (ignoring −1) all survive. */
function survivingTokens(index: number[][], kept: number[]): number[] {
  return index.flatMap((choice, t) => (choice.every((e) => e < 0 || kept.includes(e)) ? [t] : []));
}

const cases: [string, () => { router: Router; args?: object }][] = [
  ['TopKRouter k 2 (Softmax(KeepTopK)), dropless, grouped', () => ({ router: new TopKRouter({ numExperts: E, k: 2, inputDim: D, noise: 'none', seed: 1 }), args: { capacity: { eval: 0 } } })],
  ['TopKRouter k 2, shazeer noise (eval), capacity factor 8, padded', () => ({ router: new TopKRouter({ numExperts: E, k: 2, inputDim: D, kernelInitializer: 'glorotUniform', seed: 2 }), args: { capacity: { eval: 8 }, layout: 'padded' } })],
  ['SwitchRouter with renormalize (k 1), dropless', () => ({ router: new SwitchRouter({ numExperts: E, inputDim: D, seed: 3 }), args: { capacity: { eval: 0 }, renormalize: 'beforeDrop' } })],
  ['BatchPriorityRouter(TopKRouter k 1), dropless', () => ({ router: new BatchPriorityRouter({ router: new TopKRouter({ numExperts: E, k: 1, inputDim: D, noise: 'none', seed: 4 }) }), args: { capacity: { eval: 0 } } })],
];

describe('keepExperts / pruneExperts on a MixtureOfExperts', () => {
  for (const [name, make] of cases) {
    it(`${name}: tokens whose experts all survive get bit-for-bit the original output`, () => {
      const { router, args } = make();
      const experts = new FeedForwardExperts({ numExperts: E, inputDim: D, hiddenDim: 16, seed: 5 });
      const moe = new MixtureOfExperts({ router, experts, ...args });
      const x = tf.randomNormal([T, D], 0, 1, 'float32', 6) as tf.Tensor2D;
      const kept = [0, 2, 3];
      const before = outputRows(moe, x);
      const index = choices(router, x);
      const pruned = keepExperts(moe, kept);
      expect(pruned.numExperts).toBe(3);
      const after = outputRows(pruned, x);
      const survivors = survivingTokens(index, kept);
      expect(survivors.length).toBeGreaterThan(5);
      for (const t of survivors) expect(after[t]).toEqual(before[t]); // exact equality, no tolerance
      pruned.dispose();
      expect(outputRows(moe, x)).toEqual(before); // the original is untouched by pruning and by the copy's disposal
      x.dispose();
      moe.dispose();
    });
  }

  it('a full-softmax router (Switch, no renormalisation): kept gates grow by Z / Z\', the experts\' outputs are unchanged', () => {
    // y = p_e(x) · E_e(x) with p over all E logits; pruned p' over E' logits: y'/y = p'/p = Σ_all exp / Σ_kept exp
    const router = new SwitchRouter({ numExperts: E, inputDim: D, seed: 3 });
    const moe = new MixtureOfExperts({ router, experts: new FeedForwardExperts({ numExperts: E, inputDim: D, hiddenDim: 16, seed: 5 }), capacity: { eval: 0 } });
    const x = tf.randomNormal([T, D], 0, 1, 'float32', 6) as tf.Tensor2D;
    const kept = [0, 2, 3];
    const logits = tf.tidy(() => tf.matMul(x, router.gateWeights()).arraySync()) as number[][];
    const before = outputRows(moe, x);
    const pruned = keepExperts(moe, kept);
    const after = outputRows(pruned, x);
    const t = survivingTokens(choices(router, x), kept)[0]!;
    const z = (cols: number[]) => cols.reduce((s, e) => s + Math.exp(logits[t]![e]!), 0);
    const ratio = z([0, 1, 2, 3, 4, 5]) / z(kept);
    after[t]!.forEach((v, j) => expect(v).toBeCloseTo(before[t]![j]! * ratio, 5));
    pruned.dispose();
    x.dispose();
    moe.dispose();
  });

  it("keeps the options, recomputes capacity from E', copies the shared branch", () => {
    const router = new LinearTopKRouter({ inputDim: D, numExperts: E, k: 2, seed: 1 });
    const shared = new SharedExpert({ inputDim: D, hiddenDim: 4, seed: 2 });
    const moe = new MixtureOfExperts({ router, experts: new LinearExpertBank({ numExperts: E, inputDim: D }), shared, capacity: { eval: 1 }, renormalize: 'afterDrop', layout: 'padded' });
    const x = tf.randomNormal([T, D], 0, 1, 'float32', 7);
    const before = outputRows(moe, x);
    const pruned = keepExperts(moe, [1, 4, 5]);
    expect(pruned.config).toEqual(moe.config);
    expect(pruned.combiner).toBe(moe.combiner);
    expect(pruned.shared).not.toBe(shared);
    expect(pruned.shared!.trainableVariables.map((v) => v.arraySync())).toEqual(shared.trainableVariables.map((v) => v.arraySync()));
    outputRows(moe, x);
    expect(moe.lastMetrics!.capacity).toBe(16); // C = ⌈K·T·c / E⌉ = ⌈2 · 48 · 1 / 6⌉ = 16
    outputRows(pruned, x);
    expect(pruned.lastMetrics!.capacity).toBe(32); // ⌈2 · 48 · 1 / 3⌉ = 32
    expect(pruned.lastMetrics!.load).toHaveLength(3);
    pruned.dispose(); // disposes the copy of the shared branch, not the original
    expect(outputRows(moe, x)).toEqual(before);
    x.dispose();
    moe.dispose();
  });

  it('pruneExperts keeps the experts with the highest scores, in their original order', () => {
    const moe = new MixtureOfExperts({ router: new LinearTopKRouter({ inputDim: D, numExperts: E }), experts: new LinearExpertBank({ numExperts: E, inputDim: D }) });
    const { pruned, kept } = pruneExperts(moe, { ratio: 0.5, scores: [0.1, 0.9, -2, 0.5, 0.5, 0.3] }); // ⌊0.5 · 6⌋ = 3 pruned; the top 3 are 1, 3, 4
    expect(kept).toEqual([1, 3, 4]);
    const w = (pruned.router as LinearTopKRouter).kernel.arraySync();
    expect(w).toEqual(((moe.router as LinearTopKRouter).kernel.arraySync() as number[][]).map((row) => [row[1], row[3], row[4]]));
    pruned.dispose();
    // routerChange: the pretrained snapshot is a selectExperts copy of all experts; grow expert 2's and 5's columns
    const pretrained = requireCapability(moe.router, 'selectExperts', 'test', 'router').selectExperts([0, 1, 2, 3, 4, 5]) as Router;
    const kernel = (moe.router as LinearTopKRouter).kernel;
    kernel.assign(tf.tidy(() => tf.mul(kernel, tf.tensor1d([1, 1, 3, 1, 1, 2]))));
    const result = pruneExperts(moe, { keep: 2, criterion: 'routerChange', pretrainedRouter: pretrained });
    expect(result.kept).toEqual([2, 5]);
    expect(result.scores.filter((s) => Math.abs(s) > 1e-6)).toHaveLength(2); // only the grown columns changed
    result.pruned.dispose();
    pretrained.dispose();
    moe.dispose();
  });

  it('rejects bad input with named errors', () => {
    const router = new LinearTopKRouter({ inputDim: D, numExperts: E });
    const moe = new MixtureOfExperts({ router, experts: new LinearExpertBank({ numExperts: E, inputDim: D }) });
    const scores = [1, 2, 3, 4, 5, 6];
    expect(() => pruneExperts(moe, { keep: 0, scores })).toThrow("pruneExperts: argument 'keep' expected an integer in [1, 6], got 0");
    expect(() => pruneExperts(moe, { keep: 7, scores })).toThrow("pruneExperts: argument 'keep' expected an integer in [1, 6], got 7");
    expect(() => pruneExperts(moe, { ratio: 1, scores })).toThrow("pruneExperts: argument 'ratio' expected a number in [0, 1) (the fraction of experts pruned), got 1");
    expect(() => pruneExperts(moe, { ratio: -0.1, scores })).toThrow("argument 'ratio' expected a number in [0, 1)");
    expect(() => pruneExperts(moe, { keep: 2, ratio: 0.5, scores })).toThrow("pruneExperts: argument 'keep | ratio' expected exactly one of keep and ratio, got keep 2 and ratio 0.5");
    expect(() => pruneExperts(moe, { scores })).toThrow("argument 'keep | ratio' expected exactly one of keep and ratio, got neither");
    expect(() => pruneExperts(moe, { keep: 2, scores: [1, 2] })).toThrow("pruneExperts: argument 'scores' expected 6 scores (one per expert), got 2 scores");
    expect(() => pruneExperts(moe, { keep: 2 })).toThrow("expertScores: argument 'pretrainedRouter' expected a value (criterion 'routerChange' needs it), got undefined");
    expect(() => pruneExperts(moe, { keep: 2, criterion: 'load' })).toThrow("expertScores: argument 'calibration' expected a value (criterion 'load' needs it)");
    expect(() => pruneExperts(moe, { keep: 2, criterion: 'magic' as never })).toThrow("expertScores: argument 'criterion' expected one of 'routerChange' | 'random' | 'load' | 'importance' | 'weightNorm', got 'magic'");
    const other = new LinearTopKRouter({ inputDim: D, numExperts: 4 });
    expect(() => pruneExperts(moe, { keep: 2, pretrainedRouter: other })).toThrow("routerChangeScores: argument 'finetunedRouter' expected gate weights of the pretrained router's shape [8, 4] [Dg, E], got shape [8, 6]");
    expect(() => keepExperts(moe, [0, 0])).toThrow("keepExperts: argument 'keep' expected distinct expert indices, got 0 twice in [0, 0]");
    const hierarchical = new MixtureOfExperts({ router: new HierarchicalTopKRouter({ numGroups: 2, expertsPerGroup: 3, inputDim: D }), experts: new LinearExpertBank({ numExperts: E, inputDim: D }) });
    expect(() => pruneExperts(hierarchical, { keep: 3, criterion: 'weightNorm' })).toThrow("keepExperts: argument 'router' expected a component with the 'selectExperts' capability, got HierarchicalTopKRouter (capabilities: none)");
    other.dispose();
    hierarchical.dispose();
    moe.dispose();
  });

  it('leaks nothing: scoring, pruning, running and disposing the copy, or failing half-way', async () => {
    const router = new TopKRouter({ numExperts: E, k: 2, inputDim: D, seed: 1 });
    const moe = new MixtureOfExperts({ router, experts: new FeedForwardExperts({ numExperts: E, inputDim: D, hiddenDim: 8 }), shared: new SharedExpert({ inputDim: D, hiddenDim: 4 }) });
    const pretrained = router.selectExperts([0, 1, 2, 3, 4, 5]);
    const x = tf.randomNormal([T, D]);
    await expectNoLeakedTensors(() => {
      for (const criterion of ['routerChange', 'random', 'load', 'importance', 'weightNorm'] as const) {
        const { pruned } = pruneExperts(moe, { ratio: 0.5, criterion, pretrainedRouter: pretrained, calibration: x });
        outputRows(pruned, x);
        pruned.dispose();
      }
    });
    const badBank = new MixtureOfExperts({ router: new LinearTopKRouter({ inputDim: D, numExperts: E }), experts: { numExperts: E, trainableVariables: [], apply: (t: tf.Tensor) => t, dispose() {} } });
    await expectNoLeakedTensors(() => {
      expect(() => keepExperts(badBank, [0, 1])).toThrow("keepExperts: argument 'experts' expected a component with the 'selectExperts' capability, got a plain object (capabilities: none)");
    });
    tf.dispose([x]);
    pretrained.dispose();
    badBank.dispose();
    moe.dispose();
  });
});

describe('pruning a disposed model', () => {
  it('is a MoEDisposedError naming the component, not a read of released weights', () => {
    const router = new LinearTopKRouter({ inputDim: D, numExperts: E });
    const moe = new MixtureOfExperts({ router, experts: new LinearExpertBank({ numExperts: E, inputDim: D }) });
    const pretrained = requireCapability(router, 'selectExperts', 'test', 'router').selectExperts([0, 1, 2, 3, 4, 5]) as Router;
    moe.dispose();
    expect(() => keepExperts(moe, [0, 1])).toThrow(MoEDisposedError);
    expect(() => keepExperts(moe, [0, 1])).toThrow('LinearTopKRouter.kernel: this LinearTopKRouter was disposed');
    expect(() => pruneExperts(moe, { keep: 2, pretrainedRouter: pretrained })).toThrow('LinearTopKRouter.kernel: this LinearTopKRouter was disposed');
    pretrained.dispose();
  });
});

describe('keepExperts / pruneExperts on a MoELayer', () => {
  it('returns a new layer with the kept experts and the same options; surviving samples are bit-for-bit equal', () => {
    const layer = new MoELayer({
      router: new TopKRouter({ numExperts: E, k: 2, noise: 'none', seed: 1 }),
      experts: new FeedForwardExperts({ numExperts: E, inputDim: D, hiddenDim: 16, seed: 2 }),
      capacity: { eval: 0 },
      name: 'moe',
    });
    const x = tf.randomNormal([T, D], 0, 1, 'float32', 3) as tf.Tensor2D;
    const y = layer.apply(x) as tf.Tensor; // builds the layer
    const index = choices(layer.router, x);
    const { pruned, kept } = pruneExperts(layer, { keep: 3, criterion: 'weightNorm' });
    expect(pruned).toBeInstanceOf(MoELayer);
    expect(pruned.name).toBe('moe_pruned');
    expect(pruned.router.numExperts).toBe(3);
    expect(pruned.getConfig()['capacity']).toEqual({ eval: 0 });
    expect(pruned.getConfig()['routeOver']).toBe('position');
    const model = tf.sequential({ layers: [tf.layers.inputLayer({ inputShape: [D] }), pruned] }); // a pruned layer lives in a model
    const y2 = model.predict(x) as tf.Tensor;
    expect(model.countParams()).toBe(pruned.router.trainableVariables.concat(pruned.experts.trainableVariables).reduce((n, v) => n + v.size, 0));
    const before = y.arraySync() as number[][];
    const after = y2.arraySync() as number[][];
    const survivors = survivingTokens(index, kept);
    expect(survivors.length).toBeGreaterThan(3);
    for (const t of survivors) expect(after[t]).toEqual(before[t]);
    tf.dispose([x, y, y2]);
    pruned.moe.dispose();
    layer.moe.dispose();
  });
});
