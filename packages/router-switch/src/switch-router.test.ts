import * as tf from '@tensorflow/tfjs';
import { componentConfig, fromComponentConfig, hasCapability, MixtureOfExperts, MoEDisposedError } from '@moekit/core';
import { expectNoLeakedTensors, expectTensorsClose, LinearExpertBank, trainOnClusters } from '@moekit/core/testing';
import { describe, expect, it } from 'vitest';
import './register.js';
import { SwitchRouter, type SwitchRouterArgs } from './switch-router.js';

const W = [[1, 0, -1], [0, 2, 1]]; // logits x·W = [[1, 0, -1], [0, 2, 1], [1, 2, 0]]
const x = () => tf.tensor2d([[1, 0], [0, 1], [1, 1]]);

function routerWith(args: Partial<SwitchRouterArgs>, weights = W): SwitchRouter {
  const router = new SwitchRouter({ numExperts: weights[0]!.length, inputDim: weights.length, ...args });
  router.trainableVariables[0]!.assign(tf.tensor2d(weights));
  return router;
}

function release(out: ReturnType<SwitchRouter['route']>) {
  tf.dispose([out.logits, out.probs, out.expertIndex, out.priority, ...Object.values(out.auxLosses)]);
}

describe('SwitchRouter', () => {
  it('routes top-1 of softmax(x·W) with the Switch loss and the z-loss (hand-computed)', () => {
    const router = routerWith({ zLossWeight: 1e-3 });
    const input = x();
    const out = router.route(input, { training: false });
    expectTensorsClose(out.probs, [[0.665241, 0.244728, 0.090031], [0.090031, 0.665241, 0.244728], [0.244728, 0.665241, 0.090031]], { atol: 1e-6 });
    expect(out.expertIndex.arraySync()).toEqual([[0], [1], [1]]);
    // f = [1/3, 2/3, 0], P = [0.333333, 0.525070, 0.141597] → 3·Σ f·P = 1.383474
    expect(out.auxLosses['loadBalancing']!.dataSync()[0]).toBeCloseTo(1.383474, 5);
    // logsumexp rows [1.407606, 2.407606, 2.407606] → mean of squares 4.524829
    expect(out.auxLosses['zLoss']!.dataSync()[0]).toBeCloseTo(4.524829, 4);
    // total = 0.01 · 1.383474 + 0.001 · 4.524829
    expect(out.auxLosses.total.dataSync()[0]).toBeCloseTo(0.0183596, 6);
    expect(out.priority).toBeUndefined();
    release(out);
    input.dispose();
    router.dispose();
  });

  it('jitters the router input by U(1 − ε, 1 + ε) in training only', () => {
    const router = routerWith({ jitter: 0.2, seed: 4 }, [[1, 2, 3]]);
    const input = tf.ones([500, 1]) as tf.Tensor2D;
    const train = router.route(input, { training: true });
    const evaluation = router.route(input, { training: false });
    const scale = Array.from(tf.tidy(() => tf.div(tf.slice(train.logits, [0, 0], [-1, 1]), 1)).dataSync()); // u · 1
    expect(Math.min(...scale)).toBeGreaterThanOrEqual(0.8);
    expect(Math.max(...scale)).toBeLessThanOrEqual(1.2);
    expect(Math.max(...scale) - Math.min(...scale)).toBeGreaterThan(0.3); // spread over the interval
    expectTensorsClose(tf.slice(evaluation.logits, [0, 0], [1, -1]), [[1, 2, 3]]);
    release(train);
    release(evaluation);
    input.dispose();
    router.dispose();
  });

  it("jitterOn 'logits' adds U(1 − ε, 1 + ε) to the logits in training (SE-MoE / FastMoE SwitchGate), whatever the input", () => {
    // kernel row [1, 2, 3] and input 1: plain logits [1, 2, 3]; with additive noise n ~ U(0.8, 1.2) each
    // logit lies in [l + 0.8, l + 1.2]; the input-jitter router would scale them instead ([0.8, 2.4, …])
    const router = routerWith({ jitter: 0.2, jitterOn: 'logits', seed: 4 }, [[1, 2, 3]]);
    const input = tf.ones([500, 1]) as tf.Tensor2D;
    const train = router.route(input, { training: true });
    const evaluation = router.route(input, { training: false });
    const shift = tf.tidy(() => tf.sub(train.logits, tf.tensor2d([[1, 2, 3]]))); // [500, 3] the added noise
    const noise = Array.from(shift.dataSync());
    expect(Math.min(...noise)).toBeGreaterThanOrEqual(0.8 - 1e-6);
    expect(Math.max(...noise)).toBeLessThanOrEqual(1.2 + 1e-6);
    expect(Math.max(...noise) - Math.min(...noise)).toBeGreaterThan(0.3); // spread over the interval, per entry
    expectTensorsClose(tf.slice(evaluation.logits, [0, 0], [1, -1]), [[1, 2, 3]]); // evaluation: no noise
    expect(router.getConfig()['jitterOn']).toBe('logits');
    expect(() => routerWith({ jitterOn: 'output' as never }, [[1, 2, 3]])).toThrow("argument 'jitterOn'");
    tf.dispose([shift, input]);
    release(train);
    release(evaluation);
    router.dispose();
  });

  it("hands MixtureOfExperts its capacity factors (1.25 / 'auto')", () => {
    const router = new SwitchRouter({ numExperts: 4, inputDim: 3 });
    const moe = new MixtureOfExperts({ router, experts: new LinearExpertBank({ numExperts: 4, inputDim: 3 }) });
    expect(moe.config).toMatchObject({ capacity: { train: 1.25, eval: 'auto' } });
    moe.dispose();
  });

  it("dropPolicy 'random' keeps a uniformly random subset of an overflowing expert's tokens", () => {
    // every token prefers expert 0; capacity ceil(0.25 · 400 / 2) = 50 of 400
    const keptTokens = (dropPolicy: 'position' | 'random', seed: number) => {
      const router = routerWith({ dropPolicy, seed, jitter: 0, capacity: { train: 0.25 } }, [[5, 0]]);
      const moe = new MixtureOfExperts({ router, experts: LinearExpertBank.identity(2, 1) });
      const input = tf.ones([400, 1]);
      const r = moe.apply(input, { training: true });
      const kept = Array.from(r.output.dataSync()).flatMap((v, t) => (v !== 0 ? [t] : []));
      tf.dispose([input, r.output, ...Object.values(r.auxLosses)]);
      moe.dispose();
      return kept;
    };
    const position = keptTokens('position', 1);
    expect(position).toEqual(Array.from({ length: 50 }, (_, t) => t)); // the first 50
    const a = keptTokens('random', 1);
    const b = keptTokens('random', 2);
    expect(a).toHaveLength(50);
    expect(a).not.toEqual(b);
    const mean = a.reduce((s, t) => s + t, 0) / a.length;
    expect(Math.abs(mean - 199.5)).toBeLessThan(50); // uniform over 0..399: mean 199.5, std of the mean ≈ 16
    expect(keptTokens('random', 1)).toEqual(a); // seeded
  });

  it('trains: task loss falls, balance loss falls below its start, every expert is used', () => {
    const router = new SwitchRouter({ numExperts: 4, inputDim: 8, seed: 7, loadBalancingWeight: 0.1, zLossWeight: 1e-3 });
    const report = trainOnClusters(router, { steps: 200, seed: 3, capacityFactor: 2 });
    expect(report.taskLoss.last).toBeLessThan(report.taskLoss.first / 3);
    expect(report.balanceLoss.last).toBeLessThan(report.balanceLoss.first);
    report.finalLoad.forEach((load) => expect(load).toBeGreaterThan(0));
    router.dispose();
  });

  it('round-trips its config, rejects bad arguments and leaks nothing', async () => {
    const router = new SwitchRouter({ numExperts: 4, inputDim: 3, dropPolicy: 'random', seed: 2 });
    const copy = SwitchRouter.fromConfig(SwitchRouter, router.getConfig()) as SwitchRouter;
    expect(copy.getConfig()).toEqual(router.getConfig());
    expect(tf.serialization.SerializationMap.getMap().classNameMap['SwitchRouter']).toBeDefined();
    expect(() => new SwitchRouter({ numExperts: 0 })).toThrow("SwitchRouter: argument 'numExperts' expected an integer >= 1, got 0");
    expect(() => new SwitchRouter({ numExperts: 2, jitter: -0.1 })).toThrow("SwitchRouter: argument 'jitter' expected a number in [0, 1), got -0.1");
    expect(() => new SwitchRouter({ numExperts: 2, dropPolicy: 'oldest' as never })).toThrow("argument 'dropPolicy' expected one of 'position' | 'random', got 'oldest'");
    expect(() => new SwitchRouter({ numExperts: 2, k: 2 } as never)).toThrow("SwitchRouter: argument 'k' expected one of the known options");
    const input = tf.randomNormal([6, 3]) as tf.Tensor2D;
    for (const training of [true, false]) await expectNoLeakedTensors(() => release(router.route(input, { training })));
    input.dispose();
    router.dispose();
    copy.dispose();
  });
});

describe('SwitchRouter as a component', () => {
  it('declares its capabilities and names its kernel', () => {
    const router = new SwitchRouter({ numExperts: 3, inputDim: 2 });
    expect([...router.capabilities].sort()).toEqual(['excludedExperts', 'gateWeights', 'selectExperts']);
    expect(hasCapability(router, 'selectExperts')).toBe(true);
    expect(router.namedVariables().map(([name, v]) => [name, v.shape])).toEqual([['kernel', [2, 3]]]);
    router.dispose();
  });

  it('saves and loads through the registry: the full capacity, the package, the same kernel from the seed', () => {
    const router = new SwitchRouter({ numExperts: 4, inputDim: 3, capacity: { eval: 2 }, zLossWeight: 1e-3, seed: 5 });
    const spec = componentConfig(router, 'test', 'router');
    expect(spec).toMatchObject({ className: 'SwitchRouter', package: '@moekit/router-switch', config: { capacity: { train: 1.25, eval: 2 }, jitter: 1e-2, dropPolicy: 'position', kernelInitializer: 'switch', seed: 5 } });
    const copy = fromComponentConfig<SwitchRouter>(JSON.parse(JSON.stringify(spec)), 'test', 'router');
    expect(componentConfig(copy, 'test', 'router')).toEqual(spec);
    expect(Array.from(copy.trainableVariables[0]!.dataSync())).toEqual(Array.from(router.trainableVariables[0]!.dataSync())); // same seed, same draws
    router.dispose();
    copy.dispose();
  });

  it('throws MoEDisposedError once disposed, and releases its kernel', () => {
    const before = tf.memory().numTensors;
    const router = new SwitchRouter({ numExperts: 2, inputDim: 2 });
    router.dispose();
    expect(tf.memory().numTensors).toBe(before);
    const input = tf.ones([1, 2]) as tf.Tensor2D;
    expect(() => router.route(input, { training: false })).toThrow(MoEDisposedError);
    expect(() => router.route(input, { training: false })).toThrow('SwitchRouter.route');
    expect(() => router.gateWeights()).toThrow(MoEDisposedError);
    expect(() => router.selectExperts([0])).toThrow(MoEDisposedError);
    input.dispose();
  });
});

describe('SwitchRouter excluded experts', () => {
  it('routes around an excluded expert', () => {
    const router = new SwitchRouter({ numExperts: 2, seed: 1 });
    const x = tf.randomNormal([16, 4], 0, 1, 'float32', 2) as tf.Tensor2D;
    const out = router.route(x, { training: true, excludedExperts: [true, false] });
    expect(Array.from(out.expertIndex.dataSync())).toEqual(new Array(16).fill(1));
    expect(out.probs.arraySync().every(([p0, p1]) => p0 === 0 && p1 === 1)).toBe(true);
    tf.dispose([x, out.logits, out.probs, out.expertIndex, ...Object.values(out.auxLosses)]);
    router.dispose();
  });
});

describe('SwitchRouter width (issue 18)', () => {
  it('reports the width it was built for, and a MixtureOfExperts of another width names both at build', () => {
    const router = new SwitchRouter({ numExperts: 2 });
    expect(router.inputDim).toBeUndefined();
    const moe = new MixtureOfExperts({ router, experts: new LinearExpertBank({ numExperts: 2, inputDim: 4 }) });
    moe.build([4]);
    expect(router.inputDim).toBe(4);
    expect(() => moe.build([5])).toThrow("MixtureOfExperts.build: argument 'router' expected a router for gate inputs of width 5 (the input's), got SwitchRouter built for width 4");
    moe.dispose();
  });
});
