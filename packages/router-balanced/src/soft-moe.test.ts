import * as tf from '@tensorflow/tfjs';
import { GatedRouter, LinearGate, MixtureOfExperts, MoEArgumentError, componentConfig, fromComponentConfig, type PlannedRouterOutput, type SoftRoutingPlan } from '@moekit/core';
import { MoELayer } from '@moekit/layers';
import { expectNoLeakedTensors, expectTensorsClose, LinearExpertBank, trainOnClusters, countHostReads } from '@moekit/core/testing';
import { describe, expect, it } from 'vitest';
import './register.js';
import { SoftMoE, softMoERouter } from './soft-moe.js';
import { SoftMoEGate } from './soft-moe-gate.js';

function release(out: PlannedRouterOutput) {
  const plan = out.plan as SoftRoutingPlan;
  tf.dispose([out.logits, out.probs, plan.dispatchWeights, plan.combineWeights, ...Object.values(out.auxLosses)]);
}

// T = 2 tokens, E = 1 expert, S = 2 slots; logits X·Φ = [[0, ln 3], [ln 2, 0]], so exp(X·Φ) = [[1, 3], [2, 1]]
const LN2 = Math.log(2);
const LN3 = Math.log(3);

describe('SoftMoE by hand', () => {
  it('D is a softmax over the tokens (columns), C over the slots (rows)', () => {
    const algorithm = new SoftMoE({ numExperts: 1, slotsPerExpert: 2 });
    const logits = tf.tensor2d([[0, LN3], [LN2, 0]]);
    const out = algorithm.route(logits, { training: true });
    const plan = out.plan as SoftRoutingPlan;
    // D: column 0 [1, 2] / 3, column 1 [3, 1] / 4
    expectTensorsClose(plan.dispatchWeights, [[[1 / 3, 3 / 4], [2 / 3, 1 / 4]]], { atol: 1e-6 });
    // C: row 0 [1, 3] / 4, row 1 [2, 1] / 3
    expectTensorsClose(plan.combineWeights, [[[1 / 4, 3 / 4], [2 / 3, 1 / 3]]], { atol: 1e-6 });
    expect([plan.kind, plan.numExperts, plan.slotsPerGroup, plan.groupSize, plan.capacity]).toEqual(['soft', 1, 2, 2, 2]);
    expectTensorsClose(out.probs, [[1], [1]], { atol: 1e-6 }); // one expert holds every slot
    expect(out.auxLosses.total.dataSync()[0]).toBe(0);
    release(out);
    logits.dispose();
  });

  it('mixes each group of G tokens into its own slots: capacity = (T / G)·S', () => {
    // T = 4, G = 2, E = 2, S = 1; tokens 0, 1 form group 0 and tokens 2, 3 group 1
    const algorithm = new SoftMoE({ numExperts: 2, groupSize: 2 });
    const logits = tf.tensor2d([[0, 0], [LN3, 0], [LN2, LN3], [0, 0]]);
    const out = algorithm.route(logits, { training: false });
    const plan = out.plan as SoftRoutingPlan;
    // group 0: D columns [1, 3] / 4 and [1, 1] / 2; group 1: [2, 1] / 3 and [3, 1] / 4 (not over all 4 tokens)
    expectTensorsClose(plan.dispatchWeights, [[[1 / 4, 1 / 2], [3 / 4, 1 / 2]], [[2 / 3, 3 / 4], [1 / 3, 1 / 4]]], { atol: 1e-6 });
    // C rows: [1, 1] / 2, [3, 1] / 4, [2, 3] / 5, [1, 1] / 2; probs are the same with S = 1
    expectTensorsClose(plan.combineWeights, [[[1 / 2, 1 / 2], [3 / 4, 1 / 4]], [[2 / 5, 3 / 5], [1 / 2, 1 / 2]]], { atol: 1e-6 });
    expectTensorsClose(out.probs, [[1 / 2, 1 / 2], [3 / 4, 1 / 4], [2 / 5, 3 / 5], [1 / 2, 1 / 2]], { atol: 1e-6 });
    expect(plan.capacity).toBe(2); // 2 groups · 1 slot per expert
    release(out);
    logits.dispose();
  });

  it('through MixtureOfExperts: slots X̃ = Dᵀ X, output Y = C · f(X̃) (hand-computed, identity expert)', () => {
    // a LinearGate scores the unnormalised X·Φ: with X = I, the logits are Φ itself
    const router = new GatedRouter({ gate: new LinearGate({ numOutputs: 2, inputDim: 2 }), algorithm: new SoftMoE({ numExperts: 1, slotsPerExpert: 2 }) });
    router.trainableVariables[0]!.assign(tf.tensor2d([[0, LN3], [LN2, 0]]));
    const moe = new MixtureOfExperts({ router, experts: LinearExpertBank.identity(1, 2) });
    const x = tf.tensor2d([[1, 0], [0, 1]]);
    const r = moe.apply(x, { training: true });
    // slot 0 = 1/3·x0 + 2/3·x1 = [1/3, 2/3]; slot 1 = 3/4·x0 + 1/4·x1 = [3/4, 1/4]
    // y0 = 1/4·slot0 + 3/4·slot1 = [1/12 + 9/16, 1/6 + 3/16] = [0.645833, 0.354167]
    // y1 = 2/3·slot0 + 1/3·slot1 = [2/9 + 1/4, 4/9 + 1/12] = [0.472222, 0.527778]
    expectTensorsClose(r.output, [[1 / 12 + 9 / 16, 1 / 6 + 3 / 16], [2 / 9 + 1 / 4, 4 / 9 + 1 / 12]], { atol: 1e-6 });
    expect(r.metrics.load).toEqual([2]); // S = 2 slots filled, nothing dropped
    expect(r.metrics.droppedCount).toBe(0);
    expect(r.metrics.tokensWithoutExpert).toBe(0);
    tf.dispose([x, r.output, ...Object.values(r.auxLosses)]);
    moe.dispose();
  });
});

interface Fixture {
  x: tf.Tensor2D;
  phi: number[][];
  we: number[][][];
  router: GatedRouter;
  experts: LinearExpertBank;
}

const [T, D, E, S, G, DOUT] = [6, 3, 2, 2, 3, 2];

function fixture(seed: number): Fixture {
  const x = tf.randomNormal([T, D], 0, 1, 'float32', seed) as tf.Tensor2D;
  const phi = tf.randomNormal([D, E * S], 0, 1, 'float32', seed + 1).arraySync() as number[][];
  const we = tf.randomNormal([E, D, DOUT], 0, 1, 'float32', seed + 2).arraySync() as number[][][];
  const router = softMoERouter({ numExperts: E, slotsPerExpert: S, groupSize: G, inputDim: D });
  const [kernel, scale] = router.trainableVariables;
  kernel!.assign(tf.tensor2d(phi));
  scale!.assign(tf.scalar(2.5));
  const experts = new LinearExpertBank({ numExperts: E, inputDim: D, outputDim: DOUT, weights: we });
  return { x, phi, we, router, experts };
}

/** The dense computation of Algorithm 1, per group, from plain arrays: `Y = C · f(Dᵀ X)`. */
function softMoEReference(x: number[][], phi: number[][], scale: number, we: number[][][]): number[][] {
  const unit = (v: number[]) => v.map((a) => a / Math.sqrt(v.reduce((s, b) => s + b * b, 0) + 1e-6));
  const columns = Array.from({ length: E * S }, (_, j) => unit(phi.map((row) => row[j]!)).map((v) => v * scale)); // scale · l2_normalize(Φ)
  const logits = x.map((row) => columns.map((col) => unit(row).reduce((s, v, d) => s + v * col[d]!, 0))); // [T, E·S]
  const y: number[][] = [];
  for (let start = 0; start < T; start += G) {
    const group = logits.slice(start, start + G).map((row) => row.map(Math.exp)); // [G, E·S] exp(XΦ)
    const dispatchW = group.map((row) => row.map((v, j) => v / group.reduce((s, r) => s + r[j]!, 0))); // Eq. 1
    const combineW = group.map((row) => row.map((v) => v / row.reduce((s, b) => s + b, 0))); // Eq. 2
    const slotOut = Array.from({ length: E * S }, (_, j) => {
      const slotIn = Array.from({ length: D }, (_, d) => dispatchW.reduce((s, row, i) => s + row[j]! * x[start + i]![d]!, 0)); // X̃_j = Σ_i D_ij x_i
      const e = Math.floor(j / S);
      return Array.from({ length: DOUT }, (_, o) => slotIn.reduce((s, v, d) => s + v * we[e]![d]![o]!, 0)); // f_e(X̃_j)
    });
    combineW.forEach((row) => y.push(Array.from({ length: DOUT }, (_, o) => row.reduce((s, c, j) => s + c * slotOut[j]![o]!, 0)))); // y_i = Σ_j C_ij Ỹ_j
  }
  return y;
}

describe('SoftMoE through MixtureOfExperts', () => {
  it('equals the dense computation Y = C · f(Dᵀ X) per group, in both layouts', () => {
    const { x, phi, we, router, experts } = fixture(3);
    const expected = softMoEReference(x.arraySync(), phi, 2.5, we);
    for (const layout of ['padded', 'grouped'] as const) {
      const moe = new MixtureOfExperts({ router, experts, layout });
      const r = moe.apply(x, { training: true });
      expectTensorsClose(r.output, expected, { atol: 1e-5 });
      expect(r.metrics.capacity).toBe(4); // (6 / 3) groups · 2 slots
      expect(r.metrics.load).toEqual([4, 4]);
      expect(r.metrics.expertsPerToken).toBe(2); // every token mixes every expert's slots
      tf.dispose([r.output, ...Object.values(r.auxLosses)]);
    }
    x.dispose();
    router.dispose();
    experts.dispose();
  });

  it("is differentiable end to end: Φ's and the scale's gradients match finite differences", () => {
    const { x, router, experts } = fixture(5);
    const moe = new MixtureOfExperts({ router, experts, layout: 'padded' });
    const target = tf.randomNormal([T, DOUT], 0, 1, 'float32', 9);
    const loss = () => tf.tidy(() => tf.mean(tf.square(tf.sub(moe.apply(x, { training: true }).output, target))) as tf.Scalar);
    const [kernel, scale] = router.trainableVariables as [tf.Variable, tf.Variable];
    const { value, grads } = tf.variableGrads(loss, moe.trainableVariables);
    const phiGrad = grads[kernel.name]!.arraySync() as number[][];
    const scaleGrad = grads[scale.name]!.dataSync()[0]!;
    expect(phiGrad.flat().every(Number.isFinite) && Number.isFinite(scaleGrad)).toBe(true);
    expect(Math.max(...phiGrad.flat().map(Math.abs))).toBeGreaterThan(1e-3);
    const eps = 1e-2;
    const lossAt = (variable: tf.Variable, moved: tf.Tensor) => {
      const saved = variable.clone();
      variable.assign(moved);
      const l = loss();
      const v = l.dataSync()[0]!;
      variable.assign(saved);
      tf.dispose([l, saved, moved]);
      return v;
    };
    const phi = kernel.arraySync() as number[][];
    for (const [d, j] of [[0, 0], [1, 3], [2, 1]] as const) {
      const moved = (delta: number) => tf.tensor2d(phi.map((row, r) => row.map((v, c) => (r === d && c === j ? v + delta : v))));
      const numeric = (lossAt(kernel, moved(eps)) - lossAt(kernel, moved(-eps))) / (2 * eps);
      expect(Math.abs(numeric - phiGrad[d]![j]!)).toBeLessThan(1e-3 + 1e-2 * Math.abs(numeric));
    }
    const numericScale = (lossAt(scale, tf.scalar(2.5 + eps)) - lossAt(scale, tf.scalar(2.5 - eps))) / (2 * eps);
    expect(Math.abs(numericScale - scaleGrad)).toBeLessThan(1e-3 + 1e-2 * Math.abs(numericScale));
    expect(Math.abs(scaleGrad)).toBeGreaterThan(1e-4);
    tf.dispose([value, ...Object.values(grads), x, target]);
    moe.dispose();
  });

  it('trains: the task loss falls and the learned scale sharpens the softmaxes', () => {
    const router = softMoERouter({ numExperts: 4, slotsPerExpert: 2, groupSize: 4, inputDim: 8, seed: 7 });
    const report = trainOnClusters(router, { steps: 200, seed: 3 });
    expect(report.taskLoss.last).toBeLessThan(report.taskLoss.first / 5); // measured 2.18 → 0.22
    expect(report.finalLoad).toEqual([64, 64, 64, 64]); // (128 / 4) groups · 2 slots per expert
    expect(router.trainableVariables[1]!.dataSync()[0]).toBeGreaterThan(2); // from 1 (measured 3.16)
    router.dispose();
  });

  it('makes no host read in a training step, padded or grouped', () => {
    const { x, router, experts } = fixture(11);
    const target = tf.randomNormal([T, DOUT], 0, 1, 'float32', 12);
    const optimizer = tf.train.sgd(0.05);
    for (const layout of ['padded', 'grouped'] as const) {
      const moe = new MixtureOfExperts({ router, experts, layout, checkFinite: 'auto' });
      const step = () => optimizer.minimize(() => {
        const r = moe.apply(x, { training: true });
        return tf.add(tf.mean(tf.square(tf.sub(r.output, target))), r.auxLosses.total) as tf.Scalar;
      }, false, moe.trainableVariables);
      expect(countHostReads(() => { step(); step(); })).toMatchObject({ sync: 0, async: 0 });
      expect(countHostReads(() => void moe.lastMetrics!.importance)).toMatchObject({ sync: 1, async: 0 }); // the counter is live
    }
    tf.dispose([x, target]);
    optimizer.dispose();
    router.dispose();
    experts.dispose();
  });

  it('leaks no tensor: route, apply and a training step', async () => {
    const { x, router, experts } = fixture(13);
    const logits = tf.randomNormal([T, E * S]) as tf.Tensor2D;
    for (const training of [true, false]) await expectNoLeakedTensors(() => release((router.algorithm as SoftMoE).route(logits, { training })));
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

describe('SoftMoE arguments and serialisation', () => {
  it('rejects bad arguments with an MoEArgumentError naming the argument', () => {
    const bad: Array<[() => unknown, string]> = [
      [() => new SoftMoE({ numExperts: 0 }), "SoftMoE: argument 'numExperts' expected an integer >= 1, got 0"],
      [() => new SoftMoE({ numExperts: 2, slotsPerExpert: 1.5 }), "SoftMoE: argument 'slotsPerExpert' expected an integer >= 1, got 1.5"],
      [() => new SoftMoE({ numExperts: 2, groupSize: 0 }), "SoftMoE: argument 'groupSize' expected an integer >= 1, got 0"],
      [() => new SoftMoE({ numExperts: 2, capacityFactor: 1 } as never), "SoftMoE: argument 'capacityFactor' expected one of the known options"],
      [() => softMoERouter({ numExperts: 2, k: 1 } as never), "softMoERouter: argument 'k' expected one of the known options"],
      [() => new GatedRouter({ gate: new LinearGate({ numOutputs: 2 }), algorithm: new SoftMoE({ numExperts: 2, slotsPerExpert: 2 }) }), "GatedRouter: argument 'gate.numOutputs' expected 4 (the algorithm's numScores), got 2"],
    ];
    for (const [fn, message] of bad) {
      expect(fn).toThrow(MoEArgumentError);
      expect(fn).toThrow(message);
    }
    const algorithm = new SoftMoE({ numExperts: 2, slotsPerExpert: 2, groupSize: 4 });
    const narrow = tf.zeros([8, 2]) as tf.Tensor2D;
    const ragged = tf.zeros([6, 4]) as tf.Tensor2D;
    expect(() => algorithm.route(narrow, { training: true })).toThrow("SoftMoE.route: argument 'logits' expected shape [T, 4] (E·S = 2·2 slot columns), got shape [8, 2]");
    expect(() => algorithm.route(ragged, { training: true })).toThrow("SoftMoE.route: argument 'logits' expected a positive multiple of groupSize 4 tokens (rows), got shape [6, 4]");
    tf.dispose([narrow, ragged]);
  });

  it('round-trips through the serialisation registry', () => {
    const router = softMoERouter({ numExperts: 4, slotsPerExpert: 2, groupSize: 16, inputDim: 3, seed: 2 });
    const spec = componentConfig(router, 'test', 'router');
    expect(spec).toEqual({
      className: 'GatedRouter',
      package: '@moekit/core',
      config: {
        gate: { className: 'SoftMoEGate', package: '@moekit/router-balanced', config: { numOutputs: 8, inputDim: 3, normalize: true, kernelInitializer: 'glorotUniform', seed: 2 } },
        algorithm: { className: 'SoftMoE', package: '@moekit/router-balanced', config: { numExperts: 4, slotsPerExpert: 2, groupSize: 16 } },
      },
    });
    const copy = fromComponentConfig<GatedRouter>(JSON.parse(JSON.stringify(spec)), 'test', 'router');
    expect(copy.algorithm).toBeInstanceOf(SoftMoE);
    expect(copy.gate).toBeInstanceOf(SoftMoEGate);
    expect(copy.trainableVariables.map((v) => v.shape)).toEqual([[3, 8], []]);
    expect(componentConfig(copy, 'test', 'router')).toEqual(spec);
    router.dispose();
    copy.dispose();
  });

  it('trains inside tf.sequential as an MoELayer, and a saved model predicts the same after loading', async () => {
    const layer = new MoELayer({ router: softMoERouter({ numExperts: 4, groupSize: 8, seed: 1 }), experts: new LinearExpertBank({ numExperts: 4, inputDim: 8, seed: 2 }), layout: 'padded', name: 'moe' });
    const model = tf.sequential({
      layers: [
        tf.layers.dense({ units: 8, inputShape: [6], activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }) }),
        layer,
        tf.layers.dense({ units: 3, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: 4 }) }),
      ],
    });
    model.compile({ optimizer: tf.train.adam(0.02), loss: 'categoricalCrossentropy' });
    expect(layer.trainableWeights.map((w) => w.shape)).toEqual([[8, 4], [], [4, 8, 8]]); // Φ, scale, experts
    const labels = tf.randomUniformInt([96], 0, 3, 5);
    const x = tf.add(tf.gather(tf.randomNormal([3, 6], 0, 2, 'float32', 6), labels), tf.randomNormal([96, 6], 0, 0.5, 'float32', 7));
    const y = tf.oneHot(labels, 3);
    const scaleBefore = layer.router.trainableVariables[1]!.dataSync()[0];
    const history = await model.fit(x, y, { epochs: 1, batchSize: 32, shuffle: false, verbose: 0 });
    expect(history.history['loss']).toHaveLength(1);
    expect(Number.isFinite(history.history['loss']![0] as number)).toBe(true);
    expect(layer.router.trainableVariables[1]!.dataSync()[0]).not.toBe(scaleBefore); // fit trained the gate's scale
    expect(layer.lastMetrics!.capacity).toBe(4); // (32 / 8) groups · 1 slot
    let saved: tf.io.ModelArtifacts | undefined;
    await model.save(tf.io.withSaveHandler(async (artifacts) => {
      saved = artifacts;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }));
    const restored = await tf.loadLayersModel(tf.io.fromMemory(saved!));
    expect(((restored.layers[1] as MoELayer).router as GatedRouter).algorithm).toBeInstanceOf(SoftMoE);
    const a = model.predict(x, { batchSize: 32 }) as tf.Tensor;
    const b = restored.predict(x, { batchSize: 32 }) as tf.Tensor;
    // bit for bit on cpu; on webgl the same weights may round differently between shader programs
    if (tf.getBackend() === 'cpu') expect(Array.from(b.dataSync())).toEqual(Array.from(a.dataSync()));
    else expectTensorsClose(b, a, { atol: 1e-6, rtol: 1e-6 });
    tf.dispose([labels, x, y, a, b]);
    model.dispose();
    restored.dispose();
  });
});
