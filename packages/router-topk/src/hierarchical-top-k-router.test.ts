import * as tf from '@tensorflow/tfjs';
import { componentConfig, fromComponentConfig, hasCapability, MoEDisposedError } from '@moekit/core';
import { expectNoLeakedTensors, expectTensorsClose, trainOnClusters } from '@moekit/core/testing';
import { describe, expect, it } from 'vitest';
import './register.js';
import { HierarchicalTopKRouter } from './hierarchical-top-k-router.js';

function release(out: ReturnType<HierarchicalTopKRouter['route']>) {
  tf.dispose([out.logits, out.probs, out.expertIndex, ...Object.values(out.auxLosses)]);
}

describe('HierarchicalTopKRouter (Shazeer 2017, Appendix B)', () => {
  it('multiplies the primary and secondary gates and numbers experts i·b + j (hand-computed)', () => {
    const router = new HierarchicalTopKRouter({ numGroups: 2, expertsPerGroup: 2, kGroups: 1, kExperts: 2, inputDim: 2, noise: 'none' });
    const [primary, secondary] = router.trainableVariables;
    primary!.assign(tf.tensor2d([[1, 0], [0, 1]])); // token 0 → group 0, token 1 → group 1, gate 1
    secondary!.assign(tf.tensor2d([[2, 0, 0, 1], [0, 0, 1, 3]])); // group logits: t0 g0 [2, 0]; t1 g1 [1, 3]
    const x = tf.tensor2d([[1, 0], [0, 1]]);
    const out = router.route(x, { training: false });
    // softmax([2, 0]) = [0.880797, 0.119203]; softmax([1, 3]) = [0.119203, 0.880797]
    expectTensorsClose(out.probs, [[0.880797, 0.119203, 0, 0], [0, 0, 0.119203, 0.880797]], { atol: 1e-6 });
    expect(out.expertIndex.arraySync()).toEqual([[0, 1], [3, 2]]);
    // Importance_H = [0.880797, 0.119203, 0.119203, 0.880797]: mean 0.5 → numpy v.var()/v.mean()**2 = 0.580025
    expect(out.auxLosses['importance']!.dataSync()[0]).toBeCloseTo(0.580025, 5);
    expect(router.numExperts).toBe(4);
    expect(router.k).toBe(2);
    release(out);
    x.dispose();
    router.dispose();
  });

  it('computes the hierarchical smooth load in training, with gradients to every gate kernel', () => {
    const router = new HierarchicalTopKRouter({ numGroups: 2, expertsPerGroup: 3, kGroups: 1, kExperts: 2, inputDim: 4, seed: 5, kernelInitializer: 'glorotUniform' });
    const x = tf.randomNormal([32, 4], 0, 1, 'float32', 6) as tf.Tensor2D;
    const { value, grads } = tf.variableGrads(() => router.route(x, { training: true }).auxLosses.total, router.trainableVariables);
    expect(Number.isFinite(value.dataSync()[0])).toBe(true);
    expect(Object.keys(grads)).toHaveLength(4);
    for (const g of Object.values(grads)) expect(tf.tidy(() => tf.norm(g).dataSync()[0]!)).toBeGreaterThan(0);
    tf.dispose([value, x, ...Object.values(grads)]);
    router.dispose();
  });

  it('trains: task loss falls, balance loss falls below its start, every expert is used', () => {
    const router = new HierarchicalTopKRouter({ numGroups: 2, expertsPerGroup: 2, kGroups: 1, kExperts: 2, inputDim: 8, seed: 7, importanceWeight: 0.1, loadWeight: 0.1 });
    const report = trainOnClusters(router, { steps: 80, seed: 3 });
    expect(report.taskLoss.last).toBeLessThan(report.taskLoss.first / 3);
    expect(report.balanceLoss.last).toBeLessThan(report.balanceLoss.first);
    report.finalLoad.forEach((load) => expect(load).toBeGreaterThan(0));
    router.dispose();
  });

  it('saves and loads through the registry, its four kernels named; declares no capabilities', () => {
    const router = new HierarchicalTopKRouter({ numGroups: 2, expertsPerGroup: 3, inputDim: 4, seed: 2 });
    const saved = componentConfig(router, 'test', 'router');
    expect(saved).toEqual({ className: 'HierarchicalTopKRouter', package: '@moekit/router-topk', config: router.getConfig() });
    expect(router.getConfig()).toEqual({ numGroups: 2, expertsPerGroup: 3, kGroups: 1, kExperts: 2, inputDim: 4, noise: 'shazeer', noiseEpsilon: 1e-2, importanceWeight: 0.01, loadWeight: 0.01, kernelInitializer: 'zeros', seed: 2 });
    const loaded = fromComponentConfig<HierarchicalTopKRouter>(saved, 'test', 'router');
    expect(loaded.getConfig()).toEqual(router.getConfig());
    expect(loaded.namedVariables().map(([name, v]) => [name, v.shape])).toEqual([['primary', [4, 2]], ['secondary', [4, 6]], ['primaryNoise', [4, 2]], ['secondaryNoise', [4, 6]]]);
    expect([...router.capabilities]).toEqual([]);
    expect(hasCapability(router, 'selectExperts')).toBe(false);
    router.dispose();
    loaded.dispose();
  });

  it('throws MoEDisposedError when used after dispose, and releases its kernels', () => {
    const router = new HierarchicalTopKRouter({ numGroups: 2, expertsPerGroup: 2, inputDim: 3, seed: 1 });
    const before = tf.memory().numTensors;
    router.dispose();
    expect(tf.memory().numTensors).toBe(before - 4);
    const x = tf.zeros([2, 3]) as tf.Tensor2D;
    expect(() => router.route(x, { training: false })).toThrow(MoEDisposedError);
    expect(() => router.route(x, { training: false })).toThrow('HierarchicalTopKRouter.route');
    x.dispose();
  });

  it('rejects bad arguments and leaks nothing', async () => {
    expect(() => new HierarchicalTopKRouter({ numGroups: 2, expertsPerGroup: 3, kExperts: 4 })).toThrow("HierarchicalTopKRouter: argument 'kExperts' expected an integer in [1, 3], got 4");
    expect(() => new HierarchicalTopKRouter({ numGroups: 2, expertsPerGroup: 3, kGroups: 0 })).toThrow("argument 'kGroups' expected an integer in [1, 2], got 0");
    const router = new HierarchicalTopKRouter({ numGroups: 2, expertsPerGroup: 2, inputDim: 3, seed: 1 });
    const x = tf.randomNormal([8, 3]) as tf.Tensor2D;
    for (const training of [true, false]) await expectNoLeakedTensors(() => release(router.route(x, { training })));
    x.dispose();
    router.dispose();
  });
});
