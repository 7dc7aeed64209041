import * as tf from '@tensorflow/tfjs';
import { componentConfig, fromComponentConfig, hasCapability, MoEDisposedError } from '@moekit/core';
import { expectNoLeakedTensors, expectTensorsClose } from '@moekit/core/testing';
import { describe, expect, it } from 'vitest';
import './register.js';
import { TopKRouter, type TopKRouterArgs } from './top-k-router.js';

const x = () => tf.tensor2d([[1, 0], [0, 1], [1, 1]]);
const W = [[1, 0, -1], [0, 2, 1]]; // clean logits x·W = [[1, 0, -1], [0, 2, 1], [1, 2, 0]]

function routerWith(args: Partial<TopKRouterArgs>, weights = W): TopKRouter {
  const router = new TopKRouter({ numExperts: 3, inputDim: 2, ...args });
  router.trainableVariables[0]!.assign(tf.tensor2d(weights));
  return router;
}

function release(out: ReturnType<TopKRouter['route']>) {
  tf.dispose([out.logits, out.probs, out.expertIndex, ...Object.values(out.auxLosses)]);
}

describe('TopKRouter, noise off (evaluation)', () => {
  it('gates with Softmax(KeepTopK(x·W, k)) and reports importance and Switch balance (hand-computed)', () => {
    const router = routerWith({ k: 2 });
    const input = x();
    const out = router.route(input, { training: false });
    expect(out.expertIndex.arraySync()).toEqual([[0, 1], [1, 2], [1, 0]]);
    // row 0 keeps logits [1, 0] → softmax [0.731059, 0.268941]; rows 1, 2 likewise
    expectTensorsClose(out.probs, [[0.731059, 0.268941, 0], [0, 0.731059, 0.268941], [0.268941, 0.731059, 0]], { atol: 1e-6 });
    // importance = Σ_x G = [1, 1.731059, 0.268941], mean 1 → CV² = (0 + 2·0.731059²)/3 = 0.356298
    expect(out.auxLosses['importance']!.dataSync()[0]).toBeCloseTo(0.356298, 5);
    // P = mean softmax(x·W) = [0.333333, 0.525070, 0.141597], f = [1/3, 2/3, 0] → 3·Σ f·P = 1.383474
    expect(out.auxLosses['loadBalancing']!.dataSync()[0]).toBeCloseTo(1.383474, 5);
    // total = 0.01 · 0.356298 + 0.01 · 1.383474
    expect(out.auxLosses.total.dataSync()[0]).toBeCloseTo(0.0173977, 6);
    release(out);
    input.dispose();
    router.dispose();
  });

  it("with gates: 'softmax' (V-MoE) keeps the full softmax's values", () => {
    const router = routerWith({ k: 1, noise: 'gaussian' });
    const input = x();
    const out = router.route(input, { training: false });
    expectTensorsClose(out.probs, [[0.665241, 0.244728, 0.090031], [0.090031, 0.665241, 0.244728], [0.244728, 0.665241, 0.090031]], { atol: 1e-6 });
    expect(out.expertIndex.arraySync()).toEqual([[0], [1], [1]]);
    release(out);
    input.dispose();
    router.dispose();
  });
});

describe('TopKRouter noise', () => {
  for (const noise of ['shazeer', 'gaussian', 'gumbel'] as const) {
    it(`'${noise}' changes routing in training, never in evaluation; a seed makes training reproducible`, () => {
      const input = tf.randomNormal([64, 2], 0, 1, 'float32', 5) as tf.Tensor2D;
      const weights = [[0.3, 0.1, -0.2], [0.05, -0.1, 0.2]]; // close logits, so noise flips choices
      const routes = [1, 2, 1].map((seed) => {
        const router = routerWith({ k: 1, noise, seed, noiseStd: 3 }, weights);
        if (noise === 'shazeer') router.trainableVariables[1]!.assign(tf.fill([2, 3], 0.5));
        const train = router.route(input, { training: true });
        const evaluation = router.route(input, { training: false });
        const result = { train: train.expertIndex.arraySync(), evaluation: evaluation.expertIndex.arraySync(), importance: train.auxLosses['importance']!.dataSync()[0] };
        release(train);
        release(evaluation);
        router.dispose();
        return result;
      });
      expect(routes[0]!.evaluation).toEqual(routes[1]!.evaluation);
      expect(routes[0]!.train).not.toEqual(routes[0]!.evaluation);
      expect(routes[0]!.train).not.toEqual(routes[1]!.train);
      expect(routes[2]!.train).toEqual(routes[0]!.train); // same seed, same draws
      expect(routes[1]!.importance).toBeCloseTo(routes[0]!.importance!, 6); // importance uses the clean gates
      input.dispose();
    });
  }

  it("'shazeer' and 'gaussian' report the smooth load loss in training", () => {
    for (const noise of ['shazeer', 'gaussian'] as const) {
      const router = routerWith({ k: 2, noise, seed: 3 });
      const input = x();
      const out = router.route(input, { training: true });
      expect(Object.keys(out.auxLosses).sort()).toEqual(['cleanLoadBalancing', 'importance', 'load', 'total']);
      expect(Number.isFinite(out.auxLosses['load']!.dataSync()[0])).toBe(true);
      release(out);
      input.dispose();
      router.dispose();
    }
  });
});

describe('TopKRouter balancing of the noise-free choice', () => {
  it('adds Switch\'s E·Σ f·P over the clean top-1 while training with noise (hand-computed)', () => {
    // every token: clean logits [0, ln 0.25] → clean softmax [0.8, 0.2], clean top-1 expert 0 for all:
    // f = [1, 0], P = [0.8, 0.2], E·Σ f·P = 2 · 0.8 = 1.6, whatever the noise chose
    const router = new TopKRouter({ numExperts: 2, inputDim: 1, k: 1, noise: 'gaussian', noiseStd: 1, seed: 5, cleanLoadWeight: 0.5 });
    router.trainableVariables[0]!.assign(tf.tensor2d([[0, Math.log(0.25)]]));
    const xs = tf.ones([8, 1]) as tf.Tensor2D;
    const out = router.route(xs, { training: true });
    const value = (name: string) => out.auxLosses[name]!.dataSync()[0]!;
    expect(value('cleanLoadBalancing')).toBeCloseTo(1.6, 5);
    expect(value('total')).toBeCloseTo(0.01 * value('importance') + 0.01 * value('load') + 0.5 * 1.6, 5);
    release(out);
    const evaluation = router.route(xs, { training: false }); // evaluation draws no noise: its own loadBalancing is already on the clean choice
    expect(Object.keys(evaluation.auxLosses).sort()).toEqual(['importance', 'loadBalancing', 'total']);
    release(evaluation);
    const paperOnly = new TopKRouter({ numExperts: 2, inputDim: 1, k: 1, noise: 'gaussian', seed: 5, cleanLoadWeight: 0 });
    const paperOut = paperOnly.route(xs, { training: true });
    expect(Object.keys(paperOut.auxLosses).sort()).toEqual(['importance', 'load', 'total']);
    release(paperOut);
    expect(() => new TopKRouter({ numExperts: 2, cleanLoadWeight: -1 })).toThrow(/cleanLoadWeight/);
    xs.dispose();
    router.dispose();
    paperOnly.dispose();
  });
});

describe('second-expert policies (GShard top-2)', () => {
  // every token: logits [0, ln 0.25] → top-2 gates normalised to [0.8, 0.2]
  const input = () => tf.ones([4000, 1]) as tf.Tensor2D;
  const weights = [[0, Math.log(0.25)]];
  const keptSecond = (args: Partial<TopKRouterArgs>, training = true) => {
    const router = new TopKRouter({ numExperts: 2, inputDim: 1, k: 2, noise: 'none', seed: 11, ...args });
    router.trainableVariables[0]!.assign(tf.tensor2d(weights));
    const xs = input();
    const out = router.route(xs, { training });
    const second = (out.expertIndex.arraySync() as number[][]).map((r) => r[1]);
    const probs = out.probs.arraySync() as number[][];
    release(out);
    xs.dispose();
    router.dispose();
    return { fraction: second.filter((e) => e !== -1).length / second.length, probs };
  };

  it("'random' keeps the 2nd expert with probability min(1, g2/threshold): 2·g2 = 0.4 at threshold 0.5", () => {
    // binomial(4000, 0.4): std 0.0077; 0.035 is 4.5 std
    const { fraction, probs } = keptSecond({ secondExpertPolicy: 'random' });
    expect(Math.abs(fraction - 0.4)).toBeLessThan(0.035);
    // a skipped 2nd expert's gate is 0; the first keeps its normalised gate 0.8 (GShard: normalise, then drop)
    const skipped = probs.find((p) => p[1] === 0)!;
    expect(skipped[0]).toBeCloseTo(0.8, 5);
    expect(keptSecond({ secondExpertPolicy: 'random', secondExpertThreshold: 0.2 }).fraction).toBe(1); // 0.2 / 0.2 = 1
    expect(keptSecond({ secondExpertPolicy: 'random' }, false).fraction).toBe(1); // no draw in evaluation
  });

  it("'threshold', 'none' and 'all'", () => {
    expect(keptSecond({ secondExpertPolicy: 'threshold', secondExpertThreshold: 0.1 }).fraction).toBe(1);
    expect(keptSecond({ secondExpertPolicy: 'threshold', secondExpertThreshold: 0.3 }).fraction).toBe(0);
    expect(keptSecond({ secondExpertPolicy: 'none' }).fraction).toBe(0);
    expect(keptSecond({ secondExpertPolicy: 'all' }).fraction).toBe(1);
  });
});

describe('TopKRouter configuration', () => {
  it('round-trips through getConfig / fromConfig', () => {
    const router = new TopKRouter({ numExperts: 4, k: 2, noise: 'gaussian', noiseStd: 2, seed: 3, inputDim: 5 });
    const copy = TopKRouter.fromConfig(TopKRouter, router.getConfig()) as TopKRouter;
    expect(copy.getConfig()).toEqual(router.getConfig());
    expect(router.getConfig()).toMatchObject({ numExperts: 4, k: 2, noise: 'gaussian', noiseStd: 2, gates: 'softmax', importanceWeight: 0.01, loadWeight: 0.01, inputDim: 5, seed: 3 });
    expect(tf.serialization.SerializationMap.getMap().classNameMap['TopKRouter']).toBeDefined();
    router.dispose();
    copy.dispose();
  });

  it('saves and loads through the registry: same config, weights named kernel and noiseKernel', () => {
    const router = new TopKRouter({ numExperts: 3, k: 1, inputDim: 2, seed: 4 });
    const saved = componentConfig(router, 'test', 'router');
    expect(saved).toEqual({ className: 'TopKRouter', package: '@moekit/router-topk', config: router.getConfig() });
    const loaded = fromComponentConfig<TopKRouter>(saved, 'test', 'router');
    expect(loaded).toBeInstanceOf(TopKRouter);
    expect(loaded.getConfig()).toEqual(router.getConfig());
    expect(loaded.namedVariables().map(([name, v]) => [name, v.shape])).toEqual([['kernel', [2, 3]], ['noiseKernel', [2, 3]]]);
    router.dispose();
    loaded.dispose();
  });

  it('throws MoEDisposedError when used after dispose, and releases both kernels', () => {
    const router = new TopKRouter({ numExperts: 3, inputDim: 2, seed: 1 });
    const before = tf.memory().numTensors;
    router.dispose();
    expect(tf.memory().numTensors).toBe(before - 2); // W_g, W_noise
    const input = x();
    expect(() => router.route(input, { training: false })).toThrow(MoEDisposedError);
    expect(() => router.route(input, { training: false })).toThrow('TopKRouter.route');
    expect(() => router.gateWeights()).toThrow(MoEDisposedError);
    expect(() => router.selectExperts([0])).toThrow(MoEDisposedError);
    expect(router.trainableVariables).toEqual([]);
    router.dispose(); // a second dispose is a no-op
    input.dispose();
  });

  it('rejects bad arguments by name', () => {
    expect(() => new TopKRouter({ numExperts: 3, k: 4 })).toThrow("TopKRouter: argument 'k' expected an integer in [1, 3], got 4");
    expect(() => new TopKRouter({ numExperts: 3, k: 0 })).toThrow("TopKRouter: argument 'k' expected an integer in [1, 3], got 0");
    expect(() => new TopKRouter({ numExperts: 0 })).toThrow("TopKRouter: argument 'numExperts' expected an integer >= 1, got 0");
    expect(() => new TopKRouter({ numExperts: 3, noiseStd: -1 })).toThrow("TopKRouter: argument 'noiseStd' expected a finite number ≥ 0, got -1");
    expect(() => new TopKRouter({ numExperts: 3, noise: 'uniform' as never })).toThrow("argument 'noise' expected one of 'none' | 'shazeer' | 'gaussian' | 'gumbel', got 'uniform'");
    expect(() => new TopKRouter({ numExperts: 3, topK: 2 } as never)).toThrow("TopKRouter: argument 'topK' expected one of the known options");
    expect(() => new TopKRouter({ numExperts: 3, secondExpertThreshold: 0 })).toThrow("TopKRouter: argument 'secondExpertThreshold' expected a finite number > 0 and ≤ 1, got 0");
    expect(() => new TopKRouter({ numExperts: 3, seed: Number.NaN })).toThrow("TopKRouter: argument 'seed' expected a finite number, got NaN");
    const router = new TopKRouter({ numExperts: 3, inputDim: 2 });
    const wide = tf.zeros([4, 5]) as tf.Tensor2D;
    expect(() => router.route(wide, { training: false })).toThrow("TopKRouter.route: argument 'gateInput' expected width 2 (the router's inputDim), got shape [4, 5]");
    wide.dispose();
    router.dispose();
  });

  it('builds lazily from the first input and leaks nothing', async () => {
    const router = new TopKRouter({ numExperts: 3, k: 2, seed: 1 });
    expect(router.trainableVariables).toHaveLength(0);
    const input = x();
    for (const training of [true, false]) await expectNoLeakedTensors(() => release(router.route(input, { training })));
    expect(router.trainableVariables.map((v) => v.shape)).toEqual([[2, 3], [2, 3]]);
    input.dispose();
    router.dispose();
  });
});

describe('excluded experts (Pavlitska et al. 2022 hard constraint)', () => {
  it('never chooses an excluded expert and gives it probability 0, noise on or off', () => {
    const router = new TopKRouter({ numExperts: 3, k: 2, noise: 'shazeer', kernelInitializer: 'glorotUniform', seed: 4 });
    const x = tf.randomNormal([64, 5], 0, 1, 'float32', 5) as tf.Tensor2D;
    expect(hasCapability(router, 'excludedExperts')).toBe(true);
    for (const training of [true, false]) {
      const out = router.route(x, { training, excludedExperts: [false, true, false] });
      const chosen = Array.from(out.expertIndex.dataSync());
      expect(chosen.includes(1)).toBe(false); // k = 2 of the two experts left: always 0 and 2
      expect(new Set(chosen)).toEqual(new Set([0, 2]));
      const probs = out.probs.arraySync();
      expect(probs.every((row) => row[1] === 0)).toBe(true);
      tf.dispose([out.logits, out.probs, out.expertIndex, ...Object.values(out.auxLosses)]);
    }
    tf.dispose(x);
    router.dispose();
  });
});

describe('TopKRouter width (issue 18)', () => {
  it('reports the width it was built for, so a MixtureOfExperts of another width is refused at build; a misspelt route option is named', () => {
    const lazy = new TopKRouter({ numExperts: 4 });
    expect(lazy.inputDim).toBeUndefined();
    lazy.build(6);
    expect(lazy.inputDim).toBe(6);
    expect(new TopKRouter({ numExperts: 4, inputDim: 3 }).inputDim).toBe(3);
    const x = tf.ones([2, 6]) as tf.Tensor2D;
    expect(() => lazy.route(x, { train: true } as never)).toThrow("TopKRouter.route: argument 'train' expected one of the known options (training, excludedExperts), got unknown option 'train'");
    x.dispose();
    lazy.dispose();
  });
});
