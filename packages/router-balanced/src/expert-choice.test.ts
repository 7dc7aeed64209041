import * as tf from '@tensorflow/tfjs';
import { combine, dispatch, GatedRouter, LinearGate, MixtureOfExperts, MoEArgumentError, componentConfig, fromComponentConfig, routingMetrics, type PlannedRouterOutput, type SparseRoutingPlan } from '@moekit/core';
import { MoELayer } from '@moekit/layers';
import { expectNoLeakedTensors, expectTensorsClose, LinearExpertBank, trainOnClusters, countHostReads } from '@moekit/core/testing';
import { describe, expect, it } from 'vitest';
import './register.js';
import { ExpertChoice, expertChoiceRouter } from './expert-choice.js';

/** Logits whose softmax is exactly `p` (each row sums to 1): `ln p`. */
const logitsOf = (p: number[][]) => tf.log(tf.tensor2d(p)) as tf.Tensor2D;

function release(out: PlannedRouterOutput) {
  const plan = out.plan as SparseRoutingPlan;
  tf.dispose([out.logits, out.probs, plan.expertIndex, plan.slot, plan.token, plan.combineWeight, plan.load, plan.needed, plan.dropped, ...Object.values(out.auxLosses)]);
}

/** Routes `p` through `ExpertChoice` and returns the plan as numbers and the plan's metrics. */
function routeByHand(p: number[][], capacityFactor: number) {
  const algorithm = new ExpertChoice({ numExperts: p[0]!.length, capacityFactor });
  const logits = logitsOf(p);
  const out = algorithm.route(logits, { training: true });
  const plan = out.plan as SparseRoutingPlan;
  const metrics = routingMetrics(plan, out.probs).toJSON();
  const slot = plan.slot.arraySync();
  const result = {
    capacity: plan.capacity,
    slot,
    tokens: plan.token!.arraySync(), // [E, C] I of TopK(Sᵀ, C)
    numTokens: plan.numTokens,
    weight: plan.combineWeight.arraySync(),
    expertIndex: plan.expertIndex.arraySync(),
    load: Array.from(plan.load.dataSync()),
    dropped: plan.dropped.dataSync()[0],
    metrics,
  };
  release(out);
  logits.dispose();
  return result;
}

describe('ExpertChoice by hand', () => {
  // T = 4 tokens, E = 2 experts, S = softmax(ln p) = p:
  //   S = [[0.9, 0.1], [0.6, 0.4], [0.3, 0.7], [0.2, 0.8]]
  // With two experts S[:, 1] = 1 − S[:, 0]: expert 1 ranks the tokens in the reverse of expert 0's
  // order, so a small C leaves middle tokens out and a large C takes them twice, never both at once.
  const p2 = [[0.9, 0.1], [0.6, 0.4], [0.3, 0.7], [0.2, 0.8]];

  it('E = 2, c = 0.5: C = ceil(0.5·4/2) = 1, each expert takes its best token, two tokens get none', () => {
    const r = routeByHand(p2, 0.5);
    expect(r.capacity).toBe(1);
    // expert 0's column [0.9, 0.6, 0.3, 0.2] → token 0; expert 1's [0.1, 0.4, 0.7, 0.8] → token 3
    expect(r.tokens).toEqual([[0], [3]]);
    expect(r.slot).toEqual([[0], [0]]);
    expectTensorsClose(tf.tensor(r.weight), [[0.9], [0.8]], { atol: 1e-6 }); // [E, C]: S[I[e, c], e]
    // tokens 1 and 2 are taken by no expert: 2 / 4; pairs per token (1 + 0 + 0 + 1) / 4
    expect(r.metrics.tokensWithoutExpert).toBeCloseTo(0.5, 6);
    expect(r.metrics.expertsPerToken).toBeCloseTo(0.5, 6);
  });

  it('E = 2, c = 1.5: C = ceil(1.5·4/2) = 3, the middle tokens are taken twice', () => {
    const r = routeByHand(p2, 1.5);
    expect(r.capacity).toBe(3);
    // expert 0: 0.9 (t0) > 0.6 (t1) > 0.3 (t2); expert 1: 0.8 (t3) > 0.7 (t2) > 0.4 (t1)
    expect(r.tokens).toEqual([[0, 1, 2], [3, 2, 1]]);
    expect(r.slot).toEqual([[0, 1, 2], [0, 1, 2]]);
    expectTensorsClose(tf.tensor(r.weight), [[0.9, 0.6, 0.3], [0.8, 0.7, 0.4]], { atol: 1e-6 }); // [E, C]
    // tokens 1 and 2 by both experts: pairs per token (1 + 2 + 2 + 1) / 4 = 1.5, none left out
    expect(r.metrics.expertsPerToken).toBeCloseTo(1.5, 6);
    expect(r.metrics.tokensWithoutExpert).toBe(0);
    expect(r.metrics.load).toEqual([3, 3]);
    expect(r.metrics.droppedCount).toBe(0);
  });

  it('E = 3, c = 1.5: C = ceil(1.5·4/3) = 2; a token taken twice and a token taken by none in one plan', () => {
    // S = p: t0 [0.5, 0.35, 0.15], t1 [0.4, 0.3, 0.3], t2 [0.1, 0.5, 0.4], t3 [0.45, 0.05, 0.5]
    const r = routeByHand([[0.5, 0.35, 0.15], [0.4, 0.3, 0.3], [0.1, 0.5, 0.4], [0.45, 0.05, 0.5]], 1.5);
    expect(r.capacity).toBe(2);
    // Sᵀ rows: e0 [0.5, 0.4, 0.1, 0.45] → t0 (0.5), t3 (0.45); e1 [0.35, 0.3, 0.5, 0.05] → t2 (0.5), t0 (0.35);
    //          e2 [0.15, 0.3, 0.4, 0.5] → t3 (0.5), t2 (0.4). Token 1 is second-to-last in every column.
    expect(r.tokens).toEqual([[0, 3], [2, 0], [3, 2]]);
    // expert-major [E, C]: pair (e, c) carries token I[e, c] in slot c, weighted S[I[e, c], e]
    expect(r.slot).toEqual([[0, 1], [0, 1], [0, 1]]);
    expect(r.expertIndex).toEqual([[0, 0], [1, 1], [2, 2]]);
    expect(r.numTokens).toBe(4);
    expectTensorsClose(tf.tensor(r.weight), [[0.5, 0.45], [0.5, 0.35], [0.5, 0.4]], { atol: 1e-6 });
    expect(r.load).toEqual([2, 2, 2]);
    expect(r.dropped).toBe(0);
    // pairs per token: t0 2 (e0, e1), t1 0, t2 2 (e1, e2), t3 2 (e0, e2) → 6 / 4 = 1.5; 1 of 4 without expert
    expect(r.metrics.expertsPerToken).toBeCloseTo(1.5, 6);
    expect(r.metrics.tokensWithoutExpert).toBeCloseTo(0.25, 6);
    // importance Σ_t S[t, e] = [1.45, 1.2, 1.35]
    expectTensorsClose(tf.tensor(r.metrics.importance), [1.45, 1.2, 1.35], { atol: 1e-5 });
  });

  it('sizes C = round(c·T/E), at least 1, at most T, and reports k = min(E, ceil(c))', () => {
    const ec = (capacityFactor: number, numExperts: number, capacityRounding?: 'floor' | 'ceil' | 'round') => new ExpertChoice({ numExperts, capacityFactor, ...(capacityRounding ? { capacityRounding } : {}) });
    expect(ec(2, 4).capacityFor(10)).toBe(5); // 2·10/4 = 5
    expect(ec(1, 2).capacityFor(5)).toBe(3); // ceil(2.5)
    expect(ec(1, 2, 'floor').capacityFor(5)).toBe(2); // floor(2.5)
    expect(ec(1, 2, 'round').capacityFor(5)).toBe(2); // 2.5 rounds half to even
    expect(ec(0.1, 8).capacityFor(4)).toBe(1); // ceil(0.05) = 1
    expect(ec(0.1, 8, 'floor').capacityFor(4)).toBe(1); // floor(0.05) = 0, raised to 1
    expect(ec(4, 2).capacityFor(3)).toBe(3); // 4·3/2 = 6 > T = 3: an expert cannot take a token twice
    expect([ec(2, 8).k, ec(1.25, 8).k, ec(2, 1).k, ec(0.5, 8).k]).toEqual([2, 2, 1, 1]);
  });

  it('gives excluded experts no tokens: their pairs are unused (−1), weight 0, load 0', () => {
    const algorithm = new ExpertChoice({ numExperts: 3, capacityFactor: 1.5 });
    const logits = logitsOf([[0.5, 0.35, 0.15], [0.4, 0.3, 0.3], [0.1, 0.5, 0.4], [0.45, 0.05, 0.5]]);
    const out = algorithm.route(logits, { training: false, excludedExperts: [false, true, false] });
    const plan = out.plan as SparseRoutingPlan;
    // as above without expert 1: e0 takes t0, t3; e2 takes t3, t2; e1's pairs are unused
    expect(plan.slot.arraySync()).toEqual([[0, 1], [-1, -1], [0, 1]]);
    expect(plan.expertIndex.arraySync()).toEqual([[0, 0], [-1, -1], [2, 2]]);
    expect([plan.token!.arraySync()[0], plan.token!.arraySync()[2]]).toEqual([[0, 3], [3, 2]]);
    expectTensorsClose(plan.combineWeight, [[0.5, 0.45], [0, 0], [0.5, 0.4]], { atol: 1e-6 });
    expect(Array.from(plan.load.dataSync())).toEqual([2, 0, 2]);
    expect(plan.groupSizes).toEqual([2, 0, 2]);
    release(out);
    logits.dispose();
  });
});

/** `y_t = Σ_{e takes t} S[t, e] · x_t W_e`, computed on the host from plain arrays. */
function expertChoiceReference(x: number[][], wg: number[][], we: number[][][], capacity: number): number[][] {
  const E = wg[0]!.length;
  const S = x.map((row) => {
    const logits = Array.from({ length: E }, (_, e) => row.reduce((s, v, d) => s + v * wg[d]![e]!, 0));
    const m = Math.max(...logits);
    const z = logits.map((l) => Math.exp(l - m));
    const sum = z.reduce((a, b) => a + b, 0);
    return z.map((v) => v / sum);
  });
  const y = x.map(() => new Array<number>(we[0]![0]!.length).fill(0));
  for (let e = 0; e < E; e++) {
    const chosen = x.map((_, t) => t).sort((a, b) => S[b]![e]! - S[a]![e]! || a - b).slice(0, capacity);
    for (const t of chosen) {
      y[t]!.forEach((_, j) => (y[t]![j]! += S[t]![e]! * x[t]!.reduce((s, v, d) => s + v * we[e]![d]![j]!, 0)));
    }
  }
  return y;
}

function fixture(seed: number) {
  const [T, D, E, Dout] = [10, 4, 3, 2];
  const x = tf.randomNormal([T, D], 0, 1, 'float32', seed) as tf.Tensor2D;
  const wg = tf.randomNormal([D, E], 0, 1, 'float32', seed + 1).arraySync() as number[][];
  const we = tf.randomNormal([E, D, Dout], 0, 1, 'float32', seed + 2).arraySync() as number[][][];
  const router = expertChoiceRouter({ numExperts: E, capacityFactor: 1.25, inputDim: D }); // C = ceil(1.25·10/3) = 5
  router.trainableVariables[0]!.assign(tf.tensor2d(wg));
  const experts = new LinearExpertBank({ numExperts: E, inputDim: D, outputDim: Dout, weights: we });
  return { x, wg, we, router, experts };
}

describe('ExpertChoice through MixtureOfExperts', () => {
  it('outputs Σ over the experts that took a token of S[t, e] · f_e(x_t), in both layouts', () => {
    const { x, wg, we, router, experts } = fixture(3);
    const expected = expertChoiceReference(x.arraySync(), wg, we, 5);
    for (const layout of ['padded', 'grouped'] as const) {
      const moe = new MixtureOfExperts({ router, experts, layout });
      const r = moe.apply(x, { training: true });
      expectTensorsClose(r.output, expected, { atol: 1e-5 });
      expect(r.metrics.capacity).toBe(5);
      expect(r.metrics.load).toEqual([5, 5, 5]);
      expect(r.metrics.droppedCount).toBe(0);
      expect(r.metrics.expertsPerToken).toBeCloseTo(15 / 10, 6); // E·C pairs over T tokens
      expect(r.auxLosses.total.dataSync()[0]).toBe(0);
      tf.dispose([r.output, ...Object.values(r.auxLosses)]);
    }
    x.dispose();
    router.dispose();
    experts.dispose();
  });

  it('gradient reaches the gate through the combine weights and matches finite differences', () => {
    const { x, router, experts } = fixture(5);
    const moe = new MixtureOfExperts({ router, experts, layout: 'padded' });
    const target = tf.randomNormal([10, 2], 0, 1, 'float32', 9);
    const loss = () => tf.tidy(() => {
      const r = moe.apply(x, { training: true });
      return tf.mean(tf.square(tf.sub(r.output, target))) as tf.Scalar;
    });
    const kernel = router.trainableVariables[0]!;
    const { value, grads } = tf.variableGrads(loss, moe.trainableVariables);
    const gateGrad = grads[kernel.name]!.arraySync() as number[][];
    const flat = gateGrad.flat();
    expect(flat.every(Number.isFinite)).toBe(true);
    expect(Math.max(...flat.map(Math.abs))).toBeGreaterThan(1e-3);
    // central differences: the top-C selection is piecewise constant, so a small step keeps it
    const eps = 1e-2;
    const w = kernel.arraySync() as number[][];
    const at = (d: number, e: number, delta: number) => {
      const moved = w.map((row) => row.slice());
      moved[d]![e]! += delta;
      kernel.assign(tf.tensor2d(moved));
      const l = loss();
      const v = l.dataSync()[0]!;
      l.dispose();
      return v;
    };
    for (const [d, e] of [[0, 0], [1, 2], [3, 1]] as const) {
      const numeric = (at(d, e, eps) - at(d, e, -eps)) / (2 * eps);
      expect(Math.abs(numeric - gateGrad[d]![e]!)).toBeLessThan(2e-3 + 1e-2 * Math.abs(numeric));
    }
    tf.dispose([value, ...Object.values(grads), x, target]);
    moe.dispose();
  });

  it('trains: the task loss falls and every expert keeps its C tokens', () => {
    const router = expertChoiceRouter({ numExperts: 4, inputDim: 8, seed: 7 });
    const report = trainOnClusters(router, { steps: 60, seed: 3 });
    expect(report.taskLoss.last).toBeLessThan(report.taskLoss.first / 5); // measured 3.83 → 0.23
    expect(report.balanceLoss.last).toBe(0); // no aux loss: balanced by construction
    expect(report.finalLoad).toEqual([64, 64, 64, 64]); // C = 2·128/4
    router.dispose();
  });

  it('makes no host read in a training step with the padded layout (and none in the grouped one)', () => {
    const { x, router, experts } = fixture(11);
    const target = tf.randomNormal([10, 2], 0, 1, 'float32', 12);
    const optimizer = tf.train.sgd(0.05);
    for (const layout of ['padded', 'grouped'] as const) {
      const moe = new MixtureOfExperts({ router, experts, layout, checkFinite: 'auto' });
      const step = () => optimizer.minimize(() => {
        const r = moe.apply(x, { training: true });
        return tf.add(tf.mean(tf.square(tf.sub(r.output, target))), r.auxLosses.total) as tf.Scalar;
      }, false, moe.trainableVariables);
      expect(countHostReads(() => { step(); step(); })).toMatchObject({ sync: 0, async: 0 });
      // the counter is live: reading the lazy metrics is one synchronous read
      expect(countHostReads(() => void moe.lastMetrics!.load)).toMatchObject({ sync: 1, async: 0 });
    }
    tf.dispose([x, target]);
    optimizer.dispose();
    router.dispose();
    experts.dispose();
  });

  it('leaks no tensor: route, apply and a training step', async () => {
    const { x, router, experts } = fixture(13);
    const algorithm = (router as GatedRouter).algorithm as ExpertChoice;
    const logits = tf.randomNormal([10, 3]) as tf.Tensor2D;
    for (const training of [true, false]) await expectNoLeakedTensors(() => release(algorithm.route(logits, { training })));
    const moe = new MixtureOfExperts({ router, experts });
    const optimizer = tf.train.adam(0.01);
    await expectNoLeakedTensors(() => {
      const r = moe.apply(x, { training: false });
      tf.dispose([r.output, ...Object.values(r.auxLosses)]);
      optimizer.minimize(() => {
        const t = moe.apply(x, { training: true });
        return tf.add(tf.mean(tf.square(t.output)), t.auxLosses.total) as tf.Scalar;
      }, false, moe.trainableVariables);
    });
    tf.dispose([x, logits]);
    optimizer.dispose();
    moe.dispose();
  });
});

describe('ExpertChoice arguments and serialisation', () => {
  it('rejects bad arguments with an MoEArgumentError naming the argument', () => {
    const bad: Array<[() => unknown, string]> = [
      [() => new ExpertChoice({ numExperts: 0 }), "ExpertChoice: argument 'numExperts' expected an integer >= 1, got 0"],
      [() => new ExpertChoice({ numExperts: 2, capacityFactor: 0 }), "ExpertChoice: argument 'capacityFactor' expected a finite number > 0, got 0"],
      [() => new ExpertChoice({ numExperts: 2, capacityFactor: Number.NaN }), "ExpertChoice: argument 'capacityFactor' expected a finite number > 0, got NaN"],
      [() => new ExpertChoice({ numExperts: 2, capacityRounding: 'up' as never }), "ExpertChoice: argument 'capacityRounding' expected one of 'floor' | 'ceil' | 'round', got 'up'"],
      [() => new ExpertChoice({ numExperts: 2, k: 2 } as never), "ExpertChoice: argument 'k' expected one of the known options"],
      [() => expertChoiceRouter({ numExperts: 2, jitter: 0.1 } as never), "expertChoiceRouter: argument 'jitter' expected one of the known options"],
      [() => new GatedRouter({ gate: new LinearGate({ numOutputs: 3 }), algorithm: new ExpertChoice({ numExperts: 2 }) }), "GatedRouter: argument 'gate.numOutputs' expected 2 (the algorithm's numExperts), got 3"],
    ];
    for (const [fn, message] of bad) {
      expect(fn).toThrow(MoEArgumentError);
      expect(fn).toThrow(message);
    }
    const algorithm = new ExpertChoice({ numExperts: 2 });
    const wide = tf.zeros([4, 3]) as tf.Tensor2D;
    const empty = tf.zeros([0, 2]) as tf.Tensor2D;
    expect(() => algorithm.route(wide, { training: true })).toThrow("ExpertChoice.route: argument 'logits' expected shape [T, 2] (one column per expert), got shape [4, 3]");
    expect(() => algorithm.route(empty, { training: true })).toThrow("ExpertChoice.route: argument 'logits' expected at least one token (row), got shape [0, 2]");
    expect(() => algorithm.route(tf.zeros([4, 2]) as tf.Tensor2D, { training: true, excludedExperts: [true] })).toThrow("ExpertChoice.route: argument 'excludedExperts' expected 2 flags (one per expert), got 1");
    tf.dispose([wide, empty]);
  });

  it('round-trips through the serialisation registry', () => {
    const router = expertChoiceRouter({ numExperts: 4, capacityFactor: 1.5, capacityRounding: 'round', inputDim: 3, seed: 2 });
    const spec = componentConfig(router, 'test', 'router');
    expect(spec).toEqual({
      className: 'GatedRouter',
      package: '@moekit/core',
      config: {
        gate: { className: 'LinearGate', package: '@moekit/core', config: { numOutputs: 4, inputDim: 3, kernelInitializer: 'glorotUniform', seed: 2 } },
        algorithm: { className: 'ExpertChoice', package: '@moekit/router-balanced', config: { numExperts: 4, capacityFactor: 1.5, capacityRounding: 'round' } },
      },
    });
    const copy = fromComponentConfig<GatedRouter>(JSON.parse(JSON.stringify(spec)), 'test', 'router');
    expect(copy.algorithm).toBeInstanceOf(ExpertChoice);
    expect(copy.k).toBe(2);
    expect(componentConfig(copy, 'test', 'router')).toEqual(spec);
    router.dispose();
    copy.dispose();
  });

  it('trains inside tf.sequential as an MoELayer, and a saved model predicts the same after loading', async () => {
    const layer = new MoELayer({ router: expertChoiceRouter({ numExperts: 4, seed: 1 }), experts: new LinearExpertBank({ numExperts: 4, inputDim: 8, seed: 2 }), layout: 'padded', name: 'moe' });
    const model = tf.sequential({
      layers: [
        tf.layers.dense({ units: 8, inputShape: [6], activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }) }),
        layer,
        tf.layers.dense({ units: 3, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: 4 }) }),
      ],
    });
    model.compile({ optimizer: tf.train.adam(0.02), loss: 'categoricalCrossentropy' });
    const labels = tf.randomUniformInt([96], 0, 3, 5);
    const x = tf.add(tf.gather(tf.randomNormal([3, 6], 0, 2, 'float32', 6), labels), tf.randomNormal([96, 6], 0, 0.5, 'float32', 7));
    const y = tf.oneHot(labels, 3);
    const gateBefore = Array.from(layer.router.trainableVariables[0]!.dataSync());
    const history = await model.fit(x, y, { epochs: 1, batchSize: 32, shuffle: false, verbose: 0 });
    expect(history.history['loss']).toHaveLength(1);
    expect(Number.isFinite(history.history['loss']![0] as number)).toBe(true);
    expect(Array.from(layer.router.trainableVariables[0]!.dataSync())).not.toEqual(gateBefore); // fit trained the gate
    expect(layer.lastMetrics!.load).toEqual([16, 16, 16, 16]); // C = 2·32/4 per batch
    let saved: tf.io.ModelArtifacts | undefined;
    await model.save(tf.io.withSaveHandler(async (artifacts) => {
      saved = artifacts;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }));
    const restored = await tf.loadLayersModel(tf.io.fromMemory(saved!));
    const restoredLayer = restored.layers[1] as MoELayer;
    expect(((restoredLayer.router as GatedRouter).algorithm as ExpertChoice).config).toEqual({ numExperts: 4, capacityFactor: 2, capacityRounding: 'ceil' });
    const a = model.predict(x) as tf.Tensor;
    const b = restored.predict(x) as tf.Tensor;
    // bit for bit on cpu; on webgl the same weights may round differently between shader programs
    if (tf.getBackend() === 'cpu') expect(Array.from(b.dataSync())).toEqual(Array.from(a.dataSync()));
    else expectTensorsClose(b, a, { atol: 1e-6, rtol: 1e-6 });
    tf.dispose([labels, x, y, a, b]);
    model.dispose();
    restored.dispose();
  });
});
