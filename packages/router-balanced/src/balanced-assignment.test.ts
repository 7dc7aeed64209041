import * as tf from '@tensorflow/tfjs';
import { GatedRouter, isPlannedOutput, MixtureOfExperts, type RouterOutput } from '@moekit/core';
import { expectNoLeakedTensors, expectTensorsClose, LinearExpertBank, trainOnClusters, countHostReads } from '@moekit/core/testing';
import { describe, expect, it } from 'vitest';
import './register.js';
import { BalancedAssignment } from './balanced-assignment.js';
import { balancedAssignmentRouter } from './balanced-assignment-router.js';

// The tiny problem of balanced-assignment-solver.test.ts: gate kernel = I, so the scores are the inputs.
// Greedy top-1 = [0, 0, 0, 1]; the balanced optimum (2 tokens each) = [0, 1, 0, 1], Σ = 7.5.
const SCORES = [[3, 1], [2, 1.5], [1, 0], [0, 2]];
// σ of each token's score for its balanced expert: σ(3), σ(1.5), σ(1), σ(2)
const SIGMOID_AT_ASSIGNED = [[0.952574], [0.817574], [0.731059], [0.880797]];

function identityGateRouter(): GatedRouter {
  const router = balancedAssignmentRouter({ numExperts: 2, inputDim: 2, seed: 1 });
  router.trainableVariables[0]!.assign(tf.tensor2d([[1, 0], [0, 1]]));
  return router;
}

function release(out: RouterOutput) {
  const plan = isPlannedOutput(out) ? out.plan : undefined;
  tf.dispose([out.logits, out.probs, ...Object.values(out.auxLosses)]);
  if (plan !== undefined && plan.kind !== 'soft') tf.dispose([plan.expertIndex, plan.slot, plan.combineWeight, plan.load, plan.needed, plan.dropped]);
  if (!isPlannedOutput(out)) out.expertIndex.dispose();
}

/** Engine reads (sync and async) while `fn` runs. */
const hostReads = (fn: () => void) => { const r = countHostReads(fn); return r.sync + r.async; };

describe('BalancedAssignment', () => {
  it('plans an exactly balanced assignment in training, weights σ(score) (hand-computed)', () => {
    const algorithm = new BalancedAssignment({ numExperts: 2 });
    const logits = tf.tensor2d(SCORES);
    const out = algorithm.route(logits, { training: true });
    if (!isPlannedOutput(out) || out.plan.kind === 'soft') throw new Error('expected a sparse plan');
    const { plan } = out;
    expect(plan.expertIndex.arraySync()).toEqual([[0], [1], [0], [1]]); // the balanced optimum, not greedy [0, 0, 0, 1]
    expect(plan.slot.arraySync()).toEqual([[0], [0], [1], [1]]);
    expect(plan.capacity).toBe(2); // T / E = 4 / 2
    expect(Array.from(plan.load.dataSync())).toEqual([2, 2]);
    expect(Array.from(plan.needed.dataSync())).toEqual([2, 2]);
    expect(plan.dropped.dataSync()[0]).toBe(0);
    expect(plan.token).toBeUndefined(); // token-major [T, 1]
    expectTensorsClose(plan.combineWeight, SIGMOID_AT_ASSIGNED, { atol: 1e-6 });
    // probs = σ(logits), independent per expert (σ(0) = 0.5): rows need not sum to 1
    expectTensorsClose(out.probs, [[0.952574, 0.731059], [0.880797, 0.817574], [0.731059, 0.5], [0.5, 0.880797]], { atol: 1e-6 });
    expect(out.auxLosses.total.dataSync()[0]).toBe(0); // no balancing loss needed
    release(out);
    logits.dispose();
  });

  it('is greedy top-1 in evaluation, as token choices for core to place', () => {
    const algorithm = new BalancedAssignment({ numExperts: 2 });
    const logits = tf.tensor2d(SCORES);
    const out = algorithm.route(logits, { training: false });
    if (isPlannedOutput(out)) throw new Error('expected token choices');
    expect(out.expertIndex.arraySync()).toEqual([[0], [0], [0], [1]]); // argmax of each row
    expectTensorsClose(out.probs, [[0.952574, 0.731059], [0.880797, 0.817574], [0.731059, 0.5], [0.5, 0.880797]], { atol: 1e-6 });
    release(out);
    logits.dispose();
  });

  it('routes end to end through MixtureOfExperts: balanced in training, greedy under the eval capacity', () => {
    const router = identityGateRouter();
    const moe = new MixtureOfExperts({ router, experts: LinearExpertBank.identity(2, 2), capacity: { eval: 1 }, layout: 'padded' });
    const x = tf.tensor2d(SCORES);
    // training: y_t = σ(x_t · w_{a_t}) · x_t with a = [0, 1, 0, 1]
    const train = moe.apply(x, { training: true });
    expectTensorsClose(train.output, [[3 * 0.952574, 0.952574], [2 * 0.817574, 1.5 * 0.817574], [0.731059, 0], [0, 2 * 0.880797]], { atol: 1e-5 });
    expect(train.metrics.toJSON()).toMatchObject({ capacity: 2, load: [2, 2], needed: [2, 2], droppedCount: 0 });
    // the grouped layout (group sizes from the plan, no read) gives the same output
    const grouped = new MixtureOfExperts({ router, experts: moe.experts, layout: 'grouped' }).apply(x, { training: true });
    expectTensorsClose(grouped.output, train.output, { atol: 1e-6 });
    tf.dispose([grouped.output, ...Object.values(grouped.auxLosses)]);
    grouped.metrics.dispose();
    // evaluation, capacity factor 1: C = ⌈1 · 4 / 2⌉ = 2; greedy [0, 0, 0, 1] → expert 0 keeps tokens 0, 1; token 2 is dropped (output 0)
    const evaluation = moe.apply(x, { training: false });
    expectTensorsClose(evaluation.output, [[3 * 0.952574, 0.952574], [2 * 0.880797, 1.5 * 0.880797], [0, 0], [0, 2 * 0.880797]], { atol: 1e-5 });
    expect(evaluation.metrics.toJSON()).toMatchObject({ capacity: 2, load: [2, 1], needed: [3, 1], droppedCount: 1 });
    tf.dispose([x, train.output, evaluation.output, ...Object.values(train.auxLosses), ...Object.values(evaluation.auxLosses)]);
    moe.dispose();
  });

  it('lets the gradient reach the gate through σ(score) only (hand-computed)', () => {
    const router = identityGateRouter();
    const experts = LinearExpertBank.identity(2, 2);
    const moe = new MixtureOfExperts({ router, experts, layout: 'padded' });
    const x = tf.tensor2d(SCORES);
    // L = Σ_t Σ_d y_td = Σ_t σ(z_t) · Σ_d x_td with z_t = x_t · w_{a_t}, a = [0, 1, 0, 1] (a constant: off the tape)
    // ∂L/∂w_e = Σ_{t: a_t = e} σ'(z_t) · (Σ_d x_td) · x_t, σ' = σ(1 − σ):
    //   w_0: t0 σ'(3) = 0.0451767 · 4 · [3, 1] + t2 σ'(1) = 0.1966119 · 1 · [1, 0] = [0.7387323, 0.1807068]
    //   w_1: t1 σ'(1.5) = 0.1491465 · 3.5 · [2, 1.5] + t3 σ'(2) = 0.1049936 · 2 · [0, 2] = [1.0440256, 1.2029936]
    const { grads, value } = tf.variableGrads(() => {
      const r = moe.apply(x, { training: true });
      tf.dispose(Object.values(r.auxLosses));
      return tf.sum(r.output) as tf.Scalar;
    }, router.trainableVariables);
    const gate = grads[router.trainableVariables[0]!.name]!;
    expectTensorsClose(gate, [[0.7387323, 1.0440256], [0.1807068, 1.2029936]], { atol: 1e-5 }); // columns w_0, w_1
    tf.dispose([x, value, ...Object.values(grads)]);
    moe.dispose();
  });

  it('trains: the task loss falls and every expert keeps exactly T/E tokens', () => {
    const router = balancedAssignmentRouter({ numExperts: 4, inputDim: 8, seed: 5 });
    const report = trainOnClusters(router, { steps: 40, seed: 2 });
    expect(report.taskLoss.last).toBeLessThan(report.taskLoss.first / 2);
    expect(report.finalLoad).toEqual([32, 32, 32, 32]); // 128 tokens per step / 4 experts
    router.dispose();
  });

  it.each(['padded', 'grouped'] as const)('makes no host read in a training step with the %s layout (forward, backward, update)', (layout) => {
    // grouped: the plan carries its group sizes (each expert's share, known on the host), so the engine reads nothing
    const router = balancedAssignmentRouter({ numExperts: 4, inputDim: 8, seed: 3 });
    const moe = new MixtureOfExperts({ router, experts: new LinearExpertBank({ numExperts: 4, inputDim: 8, seed: 4 }), layout });
    const x = tf.randomNormal([64, 8], 0, 1, 'float32', 1);
    const target = tf.randomNormal([64, 8], 0, 1, 'float32', 2);
    const optimizer = tf.train.sgd(0.01);
    const step = () => optimizer.minimize(() => {
      const r = moe.apply(x, { training: true });
      return tf.add(tf.mean(tf.square(tf.sub(r.output, target))), r.auxLosses.total) as tf.Scalar;
    }, false, moe.trainableVariables);
    step(); // prime: kernels
    expect(hostReads(step)).toBe(0);
    expect(hostReads(() => moe.lastMetrics!.load)).toBe(1); // reading the metrics is the caller's choice
    tf.dispose([x, target]);
    optimizer.dispose();
    moe.dispose();
  });

  it('round-trips through the registry, rejects bad arguments by name and leaks nothing', async () => {
    const router = balancedAssignmentRouter({ numExperts: 4, inputDim: 3, seed: 2, swapRounds: 4, capacity: { eval: 0 } });
    const copy = GatedRouter.fromConfig(GatedRouter, router.getConfig()) as GatedRouter;
    expect(copy.getConfig()).toEqual(router.getConfig());
    expect(router.getConfig()).toMatchObject({ algorithm: { className: 'BalancedAssignment', config: { numExperts: 4, swapRounds: 4, sinkhornIterations: 20 } }, capacity: { eval: 0 } });
    expect(() => new BalancedAssignment({ numExperts: 0 })).toThrow("BalancedAssignment: argument 'numExperts' expected an integer >= 1, got 0");
    expect(() => new BalancedAssignment({ numExperts: 2, k: 2 } as never)).toThrow("BalancedAssignment: argument 'k' expected one of the known options");
    expect(() => new BalancedAssignment({ numExperts: 2, swapRounds: -1 })).toThrow("argument 'swapRounds' expected an integer >= 0, got -1");
    expect(() => balancedAssignmentRouter({ numExperts: 2, capacityFactor: 1 } as never)).toThrow("balancedAssignmentRouter: argument 'capacityFactor' expected one of the known options");
    const algorithm = new BalancedAssignment({ numExperts: 4 });
    expect(() => tf.tidy(() => { algorithm.route(tf.zeros([3, 2]) as tf.Tensor2D, { training: true }); })).toThrow("BalancedAssignment.route: argument 'logits' expected shape [T, 4] (numExperts columns), got shape [3, 2]");
    expect(() => tf.tidy(() => { algorithm.route(tf.zeros([3, 4]) as tf.Tensor2D, { training: true, excludedExperts: [true, false, false, false] }); })).toThrow("BalancedAssignment.route: argument 'excludedExperts' expected none while training");
    const input = tf.randomNormal([12, 3]) as tf.Tensor2D;
    for (const training of [true, false]) await expectNoLeakedTensors(() => release(router.route(input, { training })));
    const moe = new MixtureOfExperts({ router: copy, experts: new LinearExpertBank({ numExperts: 4, inputDim: 3 }), layout: 'padded' });
    for (const training of [true, false]) {
      await expectNoLeakedTensors(() => {
        const r = moe.apply(input, { training });
        tf.dispose([r.output, ...Object.values(r.auxLosses)]);
      });
    }
    input.dispose();
    router.dispose();
    moe.dispose();
  });
});
