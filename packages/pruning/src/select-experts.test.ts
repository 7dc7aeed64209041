// The selectExperts capability every moekit router and batched expert bank offers (core's contract):
// a pruned router's logits are exactly the kept columns of the original's, a pruned bank's outputs are
// exactly the kept experts' outputs, the originals are untouched, bad input is a named error, no leaks.
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { expectTokenChoice, MoEArgumentError, requireCapability, type ExpertBank, type Router } from '@moekit/core';
import { expectNoLeakedTensors, FixedRouter, LinearExpertBank, LinearTopKRouter } from '@moekit/core/testing';
import { FeedForwardExperts } from '@moekit/experts-ffn';
import { BatchPriorityRouter } from '@moekit/router-batch-priority';
import { SwitchRouter } from '@moekit/router-switch';
import { HierarchicalTopKRouter, TopKRouter } from '@moekit/router-topk';

const Dg = 6;
const E = 5;
const keep = [3, 0, 4]; // any order: expert keep[i] becomes expert i

const routers: [string, () => Router][] = [
  ['TopKRouter (no noise, k 2)', () => new TopKRouter({ numExperts: E, k: 2, inputDim: Dg, noise: 'none', seed: 1 })],
  ['TopKRouter (shazeer noise, k 4)', () => new TopKRouter({ numExperts: E, k: 4, inputDim: Dg, noise: 'shazeer', kernelInitializer: 'glorotUniform', seed: 2 })],
  ['SwitchRouter', () => new SwitchRouter({ numExperts: E, inputDim: Dg, seed: 3 })],
  ['BatchPriorityRouter(TopKRouter)', () => new BatchPriorityRouter({ router: new TopKRouter({ numExperts: E, k: 2, inputDim: Dg, noise: 'gaussian', seed: 4 }) })],
  ['LinearTopKRouter', () => new LinearTopKRouter({ inputDim: Dg, numExperts: E, k: 2, seed: 5 })],
];

function routeEval(router: Router, x: tf.Tensor2D): { logits: number[][]; expertIndex: number[][] } {
  const out = expectTokenChoice(router.route(x, { training: false }), 'test');
  const result = { logits: out.logits.arraySync(), expertIndex: out.expertIndex.arraySync() };
  tf.dispose([out.logits, out.probs, out.expertIndex, out.priority, ...Object.values(out.auxLosses)]);
  return result;
}

describe('Router.selectExperts', () => {
  for (const [name, make] of routers) {
    it(`${name}: logits [T, E'] equal the kept columns exactly; the original is untouched`, () => {
      const router = make();
      const x = tf.randomNormal([7, Dg], 0, 1, 'float32', 11) as tf.Tensor2D;
      const before = routeEval(router, x);
      const weightsBefore = requireCapability(router, 'gateWeights', 'test', 'router').gateWeights();
      const pruned = requireCapability(router, 'selectExperts', 'test', 'router').selectExperts(keep) as Router;
      expect(pruned.numExperts).toBe(3);
      expect(pruned.k).toBe(Math.min(router.k, 3)); // k 4 is clamped to E' = 3
      const after = routeEval(pruned, x);
      expect(after.logits.map((row) => row.length)).toEqual(Array(7).fill(3));
      expect(after.logits).toEqual(before.logits.map((row) => keep.map((e) => row[e]))); // exact: a gather, and matMul sums each column alone
      const prunedWeights = requireCapability(pruned, 'gateWeights', 'test', 'pruned').gateWeights();
      expect(prunedWeights.arraySync()).toEqual((weightsBefore.arraySync() as number[][]).map((row) => keep.map((e) => row[e])));
      pruned.dispose(); // the copy owns its own variables
      expect(routeEval(router, x).logits).toEqual(before.logits);
      const weightsAfter = requireCapability(router, 'gateWeights', 'test', 'router').gateWeights();
      expect(weightsAfter.arraySync()).toEqual(weightsBefore.arraySync());
      tf.dispose([x, weightsBefore, prunedWeights, weightsAfter]);
      router.dispose();
    });
  }

  it("TopKRouter: the noise kernel's kept columns are copied too", () => {
    const router = new TopKRouter({ numExperts: E, k: 2, inputDim: Dg, noise: 'shazeer', kernelInitializer: 'glorotUniform', seed: 6 });
    const pruned = router.selectExperts(keep);
    const [, noise] = router.trainableVariables;
    const [, prunedNoise] = pruned.trainableVariables;
    expect(prunedNoise!.arraySync()).toEqual((noise!.arraySync() as number[][]).map((row) => keep.map((e) => row[e])));
    router.dispose();
    pruned.dispose();
  });

  it('rejects bad selections and unbuilt routers with named errors', () => {
    const router = new LinearTopKRouter({ inputDim: Dg, numExperts: E });
    expect(() => router.selectExperts([])).toThrow("LinearTopKRouter.selectExperts: argument 'keep' expected between 1 and 5 expert indices, got 0 indices");
    expect(() => router.selectExperts([0, 5])).toThrow("argument 'keep' expected integer expert indices in [0, 4], got 5 in [0, 5]");
    expect(() => router.selectExperts([1, 1])).toThrow("argument 'keep' expected distinct expert indices, got 1 twice in [1, 1]");
    expect(() => router.selectExperts([0, 1, 2, 3, 4, 0])).toThrow(MoEArgumentError);
    expect(() => new TopKRouter({ numExperts: E }).selectExperts([0])).toThrow("TopKRouter.selectExperts: argument 'this' expected a built TopKRouter (give inputDim, call build or use it once), got one without its 'kernel' weights");
    expect(() => new SwitchRouter({ numExperts: E }).gateWeights()).toThrow("SwitchRouter.gateWeights: argument 'this' expected a built SwitchRouter (give inputDim, call build or use it once), got one without its 'kernel' weights");
    const hierarchical = new HierarchicalTopKRouter({ numGroups: 2, expertsPerGroup: 2, inputDim: Dg });
    expect(() => hierarchical.selectExperts([0, 1])).toThrow('HierarchicalTopKRouter.selectExperts: argument \'keep\' expected a router with a flat gate (the hierarchical gate needs 2 groups of exactly 2 experts');
    const fixed = new BatchPriorityRouter({ router: new FixedRouter({ expertIndex: [[0]], probs: [[1, 0]] }) });
    expect(() => fixed.selectExperts([0])).toThrow("BatchPriorityRouter.selectExperts: argument 'router' expected a component with the 'selectExperts' capability, got FixedRouter (capabilities: none)");
    hierarchical.dispose();
    router.dispose();
  });

  it('leaks nothing', async () => {
    const router = new TopKRouter({ numExperts: E, k: 2, inputDim: Dg, noise: 'shazeer', seed: 7 });
    await expectNoLeakedTensors(() => {
      const pruned = router.selectExperts(keep);
      pruned.gateWeights().dispose();
      pruned.dispose();
    });
    router.dispose();
  });
});

const banks: [string, () => ExpertBank][] = [
  ['FeedForwardExperts (relu, biases)', () => new FeedForwardExperts({ numExperts: E, inputDim: 4, hiddenDim: 8, outputDim: 3, seed: 1 })],
  ['FeedForwardExperts (swiglu)', () => new FeedForwardExperts({ numExperts: E, inputDim: 4, hiddenDim: 8, gated: 'swiglu', seed: 2 })],
  ['LinearExpertBank', () => new LinearExpertBank({ numExperts: E, inputDim: 4, outputDim: 3, seed: 3 })],
];

describe('ExpertBank.selectExperts', () => {
  for (const [name, make] of banks) {
    it(`${name}: the kept experts' outputs are bit-for-bit the original's, padded and grouped`, () => {
      const bank = make();
      // give every bias a value, so copying biases is tested too
      for (const v of bank.trainableVariables) if (v.shape[1] === 1) v.assign(tf.randomNormal(v.shape, 0, 1, 'float32', 5));
      const dispatched = tf.randomNormal([E, 4, 4], 0, 1, 'float32', 12); // [E, C, D]
      const full = bank.apply(dispatched, { training: false }); // [E, C, D']
      const pruned = requireCapability(bank, 'selectExperts', 'test', 'bank').selectExperts(keep) as ExpertBank;
      expect(pruned.numExperts).toBe(3);
      const keptInput = tf.gather(dispatched, keep); // [E', C, D]
      const out = pruned.apply(keptInput, { training: false }); // [E', C, D']
      const expected = tf.gather(full, keep);
      expect(out.arraySync()).toEqual(expected.arraySync());
      // grouped rows: expert i owns 2 rows each
      const rows = tf.reshape(tf.slice(keptInput, [0, 0, 0], [3, 2, 4]), [6, 4]); // [N, D]
      const grouped = pruned.applyGrouped!(rows, [2, 2, 2], { training: false }); // [N, D']
      expect(grouped.arraySync()).toEqual((tf.reshape(tf.slice(expected, [0, 0, 0], [3, 2, -1]), [6, -1]).arraySync()));
      pruned.dispose();
      expect(bank.apply(dispatched, { training: false }).arraySync()).toEqual(full.arraySync()); // original untouched
      tf.dispose([dispatched, full, keptInput, out, expected, rows, grouped]);
      bank.dispose();
    });
  }

  it('rejects a bad selection with a named error and leaks nothing', async () => {
    const bank = new FeedForwardExperts({ numExperts: E, inputDim: 4, hiddenDim: 8 });
    expect(() => bank.selectExperts([7])).toThrow("FeedForwardExperts.selectExperts: argument 'keep' expected integer expert indices in [0, 4], got 7 in [7]");
    await expectNoLeakedTensors(() => bank.selectExperts(keep).dispose());
    bank.dispose();
  });
});
