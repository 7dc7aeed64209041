import * as tf from '@tensorflow/tfjs';
import { componentConfig, disposeRoutingPlan, fromComponentConfig, MixtureOfExperts, MoEDisposedError, planRouting, registeredPackage } from '@moekit/core';
import { FixedRouter, LinearExpertBank, LinearTopKRouter, expectNoLeakedTensors, trainOnClusters } from '@moekit/core/testing';
import { describe, expect, it } from 'vitest';
import './register.js';
import { BatchPriorityRouter } from './batch-priority-router.js';

// T = 4 tokens, E = 2, K = 2 (top-2 in descending gate order), capacity 2 forces drops.
const probs = [[0.6, 0.4], [0.9, 0.1], [0.3, 0.7], [0.8, 0.2]];
const expertIndex = [[0, 1], [0, 1], [1, 0], [0, 1]];

function slotsOf(router: FixedRouter | BatchPriorityRouter): number[][] {
  const x = tf.zeros([4, 1]) as tf.Tensor2D;
  const out = router.route(x, { training: true });
  // capacity ceil(0.5 · 4 · 2 / 2) = 2
  const plan = planRouting(out, 2, { capacityFactor: 0.5 });
  const slots = plan.slot.arraySync() as number[][];
  disposeRoutingPlan(plan);
  tf.dispose([x, out.logits, out.probs, out.expertIndex, out.priority, ...Object.values(out.auxLosses)]);
  return slots;
}

describe('BatchPriorityRouter (V-MoE BPR)', () => {
  it('places tokens by their top-1 gate, all first choices first, and drops the least sure', () => {
    // vanilla, token order: first choices t0→e0:0, t1→e0:1, t2→e1:0, t3→e0 dropped;
    //   second choices (e1 has one kept): t0→e1:1, t1, t2, t3 dropped
    expect(slotsOf(new FixedRouter({ probs, expertIndex }))).toEqual([[0, 1], [1, -1], [0, -1], [-1, -1]]);
    // BPR priority = top-1 gates [0.6, 0.9, 0.7, 0.8] → order t1, t3, t2, t0
    //   first choices: t1→e0:0, t3→e0:1, t2→e1:0, t0→e0 dropped (the least sure token)
    //   second choices: t1→e1:1, then t3, t2, t0 dropped
    expect(slotsOf(new BatchPriorityRouter({ router: new FixedRouter({ probs, expertIndex }) }))).toEqual([[-1, -1], [0, 1], [0, -1], [1, -1]]);
  });

  it('hands back the priority and the raw gates', () => {
    const router = new BatchPriorityRouter({ router: new FixedRouter({ probs, expertIndex }) });
    const x = tf.zeros([4, 1]) as tf.Tensor2D;
    const out = router.route(x, { training: false });
    expect(Array.from(out.priority!.dataSync())).toEqual(Array.from(new Float32Array([0.6, 0.9, 0.7, 0.8])));
    expect(out.probs.arraySync()).toEqual(tf.tensor2d(probs).arraySync());
    tf.dispose([x, out.logits, out.probs, out.expertIndex, out.priority, ...Object.values(out.auxLosses)]);
  });

  it('rejects a wrapped router that is not top-k', () => {
    expect(() => new BatchPriorityRouter({ router: { numExperts: 2 } as never })).toThrow("BatchPriorityRouter: argument 'router' expected a top-k Router (numExperts, k, route), got an object without route, k");
    const notTopK = new BatchPriorityRouter({ router: new FixedRouter({ probs: [[0.9, 0.1]], expertIndex: [[1]] }) });
    const x = tf.zeros([1, 1]) as tf.Tensor2D;
    expect(() => notTopK.route(x, { training: false })).toThrow("BatchPriorityRouter.route: argument 'router' expected a top-k router (each token's first choice is its highest gate), got a first choice 0.800 below the highest gate");
    x.dispose();
  });

  it('trains like the router it wraps, and leaks nothing', async () => {
    const inner = new LinearTopKRouter({ inputDim: 8, numExperts: 4, k: 2, balanceWeight: 0.1, seed: 7 });
    inner.kernel.assign(tf.add(inner.kernel, tf.tensor2d([[0.4, 0, 0, 0]]))); // start unbalanced, towards expert 0
    const router = new BatchPriorityRouter({ router: inner });
    const report = trainOnClusters(router, { steps: 80, seed: 3, capacityFactor: 1 });
    expect(report.taskLoss.last).toBeLessThan(report.taskLoss.first / 3);
    expect(report.balanceLoss.last).toBeLessThan(report.balanceLoss.first);
    report.finalLoad.forEach((load) => expect(load).toBeGreaterThan(0));
    const moe = new MixtureOfExperts({ router, experts: new LinearExpertBank({ numExperts: 4, inputDim: 8 }) });
    const x = tf.randomNormal([16, 8]);
    await expectNoLeakedTensors(() => {
      const r = moe.apply(x, { training: true });
      tf.dispose([r.output, ...Object.values(r.auxLosses)]);
    });
    x.dispose();
    moe.dispose();
  });

  it('saves and loads with the router it wraps (nested config, package named)', () => {
    const router = new BatchPriorityRouter({ router: new LinearTopKRouter({ inputDim: 3, numExperts: 4, k: 2, seed: 9 }) });
    const saved = JSON.parse(JSON.stringify(componentConfig(router, 'test', 'router')));
    expect(saved).toEqual({
      className: 'BatchPriorityRouter',
      package: '@moekit/router-batch-priority',
      config: { router: { className: 'LinearTopKRouter', package: '@moekit/core/testing', config: { inputDim: 3, numExperts: 4, k: 2, balanceWeight: 0.01, seed: 9 } } },
    });
    const loaded = fromComponentConfig<BatchPriorityRouter>(saved, 'test', 'router');
    expect(loaded).toBeInstanceOf(BatchPriorityRouter);
    expect(loaded.router).toBeInstanceOf(LinearTopKRouter);
    expect([loaded.numExperts, loaded.k]).toEqual([4, 2]);
    expect(loaded.namedVariables().map(([path, v]) => [path, v.shape])).toEqual([['router/kernel', [3, 4]]]);
    expect((loaded.router as LinearTopKRouter).kernel.arraySync()).toEqual((router.router as LinearTopKRouter).kernel.arraySync()); // same seed, same weights
    router.dispose();
    loaded.dispose();
  });

  it('names an unsaveable or unregistered wrapped router', () => {
    const router = new BatchPriorityRouter({ router: new FixedRouter({ probs, expertIndex }) });
    expect(() => router.getConfig()).toThrow("BatchPriorityRouter.getConfig: argument 'router' expected a serialisable component (a registered tf.serialization.Serializable), got one without getClassName/getConfig");
    expect(() => BatchPriorityRouter.fromConfig(BatchPriorityRouter, { router: { className: 'NoSuchRouter', config: {} } })).toThrow(
      "BatchPriorityRouter.fromConfig: argument 'router.className' expected a registered component class (import the package that defines it before loading), got 'NoSuchRouter'",
    );
    expect(registeredPackage('BatchPriorityRouter')).toBe('@moekit/router-batch-priority');
    expect(tf.serialization.SerializationMap.getMap().classNameMap['BatchPriorityRouter']).toBeDefined();
  });

  it("follows the wrapped router's capabilities, selecting experts by re-wrapping its selection", () => {
    const inner = new LinearTopKRouter({ inputDim: 3, numExperts: 4, k: 2, seed: 2 });
    const router = new BatchPriorityRouter({ router: inner });
    expect([...router.capabilities].sort()).toEqual(['excludedExperts', 'gateWeights', 'selectExperts']);
    const pruned = router.selectExperts([3, 1]);
    expect(pruned).toBeInstanceOf(BatchPriorityRouter);
    expect(pruned.router).toBeInstanceOf(LinearTopKRouter);
    expect([pruned.numExperts, pruned.k]).toEqual([2, 2]);
    expect((pruned.router as LinearTopKRouter).kernel.arraySync()).toEqual((inner.kernel.arraySync() as number[][]).map((row) => [row[3], row[1]]));
    pruned.dispose();
    router.dispose();
    const fixed = new BatchPriorityRouter({ router: new FixedRouter({ probs, expertIndex }) });
    expect(fixed.capabilities.size).toBe(0);
    expect(() => fixed.selectExperts([0])).toThrow("BatchPriorityRouter.selectExperts: argument 'router' expected a component with the 'selectExperts' capability, got FixedRouter (capabilities: none)");
    expect(() => fixed.gateWeights()).toThrow("BatchPriorityRouter.gateWeights: argument 'router' expected a component with the 'gateWeights' capability");
  });

  it('is disposed with the router it wraps, and names a use after dispose', async () => {
    const x = tf.zeros([2, 3]) as tf.Tensor2D;
    await expectNoLeakedTensors(() => {
      const router = new BatchPriorityRouter({ router: new LinearTopKRouter({ inputDim: 3, numExperts: 4, k: 2 }) });
      router.dispose();
      expect((router.router as LinearTopKRouter).isDisposed).toBe(true);
      expect(() => router.route(x, { training: false })).toThrow(MoEDisposedError);
      expect(() => router.route(x, { training: false })).toThrow('BatchPriorityRouter.route: this BatchPriorityRouter was disposed');
      expect(() => router.selectExperts([0])).toThrow('BatchPriorityRouter.selectExperts: this BatchPriorityRouter was disposed');
    });
    x.dispose();
  });
});
