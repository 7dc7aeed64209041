import * as tf from '@tensorflow/tfjs';
import { MixtureOfExperts, planRouting, disposeRoutingPlan } from '@moekit/core';
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

  it('round-trips its config through the serialisation registry', () => {
    const inner = new FixedRouter({ probs, expertIndex });
    const router = new BatchPriorityRouter({ router: inner });
    expect(() => router.getConfig()).toThrow("BatchPriorityRouter.getConfig: argument 'router' expected a serialisable component (a registered tf.serialization.Serializable), got one without getClassName/getConfig");
    expect(() => BatchPriorityRouter.fromConfig(BatchPriorityRouter, { router: { className: 'NoSuchRouter', config: {} } })).toThrow(
      "BatchPriorityRouter.fromConfig: argument 'router.className' expected a class registered with tf.serialization (import its package before loading), got 'NoSuchRouter'",
    );
    expect(tf.serialization.SerializationMap.getMap().classNameMap['BatchPriorityRouter']).toBeDefined();
  });
});
