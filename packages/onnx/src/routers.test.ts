// Every router's evaluation path, traced on tfjs's cpu backend and run in ONNX Runtime: each returned
// tensor (probs, expert indices, the plan's slots, weights and tokens, soft dispatch/combine weights)
// must agree — floats within 1e-5, int32 and bool exactly.
import * as tf from '@tensorflow/tfjs-core';
import { GatedRouter, LinearGate, MixtureOfExperts, isPlannedOutput, isSparsePlan, planRouting, type Router, type RoutingPlan } from '@moekit/core';
import { LinearTopKRouter, expectNoLeakedTensors } from '@moekit/core/testing';
import { CosineGate, HierarchicalTopKRouter, KTop1Choice, SwitchAndMixtureChoice, TopKChoice, TopKRouter } from '@moekit/router-topk';
import { SwitchRouter } from '@moekit/router-switch';
import { BalancedAssignment, ExpertChoice, HashRouter, SoftMoE, SoftMoEGate, balancedAssignmentRouter, expertChoiceRouter, softMoERouter } from '@moekit/router-balanced';
import { BatchPriorityRouter } from '@moekit/router-batch-priority';
import { FeedForwardExperts } from '@moekit/experts-ffn';
import { describe, expect, it } from 'vitest';
import { maxAbsDifference, traceAndRun, type TracedRun } from './testing/trace-and-run.js';

const T = 24;
const D = 8;

/** Seeded gate input `[T, D]`. */
const features = (): tf.Tensor2D => tf.randomNormal([T, D], 0, 1, 'float32', 3);

/** A traced router: its outputs' names and dtypes, and both runs. */
interface RouterRun {
  names: string[];
  dtypes: tf.DataType[];
  run: TracedRun;
}

/** The tensors of a plan, by name. */
function planTensors(plan: RoutingPlan): Record<string, tf.Tensor> {
  if (!isSparsePlan(plan)) return { dispatchWeights: plan.dispatchWeights, combineWeights: plan.combineWeights };
  const out: Record<string, tf.Tensor> = { planExpertIndex: plan.expertIndex, slot: plan.slot, combineWeight: plan.combineWeight, load: plan.load, needed: plan.needed, dropped: plan.dropped };
  if (plan.token !== undefined) out['token'] = plan.token;
  return out;
}

/**
 * Traces `router.route(x, { training: false })` (and, for token choice, `planRouting` at capacity
 * factor `capacityFactor`), runs it in ONNX Runtime, and returns the named outputs of both.
 */
async function traceRouter(router: Router, numExperts: number, makeInput: () => tf.Tensor2D, capacityFactor = 1.0): Promise<RouterRun> {
  const x = makeInput();
  let names: string[] = [];
  let dtypes: tf.DataType[] = [];
  try {
    const run = await traceAndRun([x], (t) => {
      const out = router.route(t as tf.Tensor2D, { training: false });
      const tensors: Record<string, tf.Tensor> = { probs: out.probs };
      if (isPlannedOutput(out)) Object.assign(tensors, planTensors(out.plan));
      else {
        tensors['expertIndex'] = out.expertIndex;
        Object.assign(tensors, planTensors(planRouting(out, numExperts, { capacityFactor, validate: false })));
      }
      names = Object.keys(tensors);
      dtypes = Object.values(tensors).map((v) => v.dtype);
      return Object.values(tensors);
    });
    return { names, dtypes, run };
  } finally {
    x.dispose();
  }
}

/** Asserts every output agrees: float32 within 1e-5, int32/bool exactly. */
function expectSameOutputs({ names, dtypes, run }: RouterRun): void {
  names.forEach((name, i) => {
    const tolerance = dtypes[i] === 'float32' ? 1e-5 : 0;
    expect({ name, agrees: maxAbsDifference(run.actual[i]!, run.expected[i]!) <= tolerance }).toEqual({ name, agrees: true });
  });
}

/** Builds, traces, compares and disposes one router; checks no tensor leaks. */
async function checkRouter(make: () => Router & { dispose(): void }, numExperts: number, makeInput = features): Promise<RouterRun> {
  const router = make();
  let result!: RouterRun;
  try {
    const warm = makeInput();
    tf.tidy(() => { router.route(warm, { training: false }); }); // builds lazily made weights
    warm.dispose();
    await expectNoLeakedTensors(async () => {
      result = await traceRouter(router, numExperts, makeInput);
    });
  } finally {
    router.dispose();
  }
  expectSameOutputs(result);
  return result;
}

describe('every router at evaluation, traced and run in ONNX Runtime', () => {
  it("core's LinearTopKRouter (k = 2), with planRouting at capacity factor 1 dropping some pairs", async () => {
    const { names, run } = await checkRouter(() => new LinearTopKRouter({ inputDim: D, numExperts: 4, k: 2, seed: 1 }), 4);
    const slot = run.expected[names.indexOf('slot')]!;
    expect(slot.data).toContain(-1); // capacity 1.0 · 48 / 4 = 12 rows an expert: some pairs drop
  });

  it('GatedRouter(LinearGate, TopKChoice) top-2', async () => {
    await checkRouter(() => new GatedRouter({ gate: new LinearGate({ numOutputs: 8, inputDim: D, seed: 2 }), algorithm: new TopKChoice({ numExperts: 8, k: 2 }) }), 8);
  });

  it('TopKRouter softmax top-1 and top-2', async () => {
    await checkRouter(() => new TopKRouter({ numExperts: 4, k: 1, inputDim: D, seed: 1 }), 4);
    await checkRouter(() => new TopKRouter({ numExperts: 6, k: 2, inputDim: D, seed: 4 }), 6);
  });

  it('SwitchRouter', async () => {
    await checkRouter(() => new SwitchRouter({ numExperts: 4, inputDim: D, seed: 5 }), 4);
  });

  it('TopKRouter with Shazeer noise (no noise at evaluation), topKSoftmax gates', async () => {
    await checkRouter(() => new TopKRouter({ numExperts: 8, k: 2, noise: 'shazeer', inputDim: D, seed: 6 }), 8);
    await checkRouter(() => new TopKRouter({ numExperts: 8, k: 2, gates: 'topKSoftmax', inputDim: D, seed: 7 }), 8);
  });

  it('HierarchicalTopKRouter', async () => {
    await checkRouter(() => new HierarchicalTopKRouter({ numGroups: 2, expertsPerGroup: 4, kGroups: 1, kExperts: 2, inputDim: D, seed: 8 }), 8);
  });

  it("GatedRouter(X-MoE's CosineGate, TopKChoice)", async () => {
    await checkRouter(() => new GatedRouter({ gate: new CosineGate({ numOutputs: 8, inputDim: D, seed: 9 }), algorithm: new TopKChoice({ numExperts: 8, k: 2 }) }), 8);
  });

  it('GatedRouter(LinearGate, TopKChoice) with sigmoid gating and the aux-loss-free bias', async () => {
    await checkRouter(() => new GatedRouter({ gate: new LinearGate({ numOutputs: 8, inputDim: D, seed: 10 }), algorithm: new TopKChoice({ numExperts: 8, k: 2, gating: 'sigmoid', expertBias: [0.3, -0.2, 0, 0.1, -0.4, 0.2, 0, -0.1] }) }), 8);
  });

  it('GatedRouter(LinearGate, KTop1Choice) and (LinearGate, SwitchAndMixtureChoice)', async () => {
    await checkRouter(() => new GatedRouter({ gate: new LinearGate({ numOutputs: 8, inputDim: D, seed: 11 }), algorithm: new KTop1Choice({ numExperts: 8, k: 4 }) }), 8);
    await checkRouter(() => new GatedRouter({ gate: new LinearGate({ numOutputs: 8, inputDim: D, seed: 12 }), algorithm: new SwitchAndMixtureChoice({ numExperts: 8, numGroups: 2, k: 2 }) }), 8);
  });

  it('expert choice: GatedRouter(LinearGate, ExpertChoice) and expertChoiceRouter', async () => {
    const { names, run } = await checkRouter(() => new GatedRouter({ gate: new LinearGate({ numOutputs: 4, inputDim: D, seed: 13 }), algorithm: new ExpertChoice({ numExperts: 4, capacityFactor: 1 }) }), 4);
    expect(names).toContain('token');
    expect(run.expected[names.indexOf('token')]!.dims).toEqual([4, 6]); // [E, C]: C = 1 · 24 / 4
    await checkRouter(() => expertChoiceRouter({ numExperts: 4, inputDim: D, seed: 14 }), 4);
  });

  it('Soft MoE: GatedRouter(SoftMoEGate, SoftMoE) and softMoERouter', async () => {
    const { names } = await checkRouter(() => new GatedRouter({ gate: new SoftMoEGate({ numOutputs: 4 * 2, inputDim: D, seed: 15 }), algorithm: new SoftMoE({ numExperts: 4, slotsPerExpert: 2 }) }), 4);
    expect(names).toEqual(['probs', 'dispatchWeights', 'combineWeights']);
    await checkRouter(() => softMoERouter({ numExperts: 4, slotsPerExpert: 1, groupSize: 8, inputDim: D, seed: 16 }), 4);
  });

  it('BASE balanced assignment at evaluation (greedy): GatedRouter(LinearGate, BalancedAssignment) and balancedAssignmentRouter', async () => {
    await checkRouter(() => new GatedRouter({ gate: new LinearGate({ numOutputs: 4, inputDim: D, seed: 17 }), algorithm: new BalancedAssignment({ numExperts: 4 }) }), 4);
    await checkRouter(() => balancedAssignmentRouter({ numExperts: 4, inputDim: D, seed: 18 }), 4);
  });

  it('HashRouter on token ids and on feature buckets', async () => {
    const tokenIds = (): tf.Tensor2D => tf.tensor2d(Array.from({ length: T }, (_, i) => [(i * 7) % 50]));
    await checkRouter(() => new HashRouter({ numExperts: 4, vocabSize: 50, seed: 19 }), 4, tokenIds);
    await checkRouter(() => new HashRouter({ numExperts: 4, hashOf: 'featureBucket', bucketBits: 4, inputDim: D, seed: 20 }), 4);
  });

  it('BatchPriorityRouter over TopKRouter (priority order on the device)', async () => {
    await checkRouter(() => new BatchPriorityRouter({ router: new TopKRouter({ numExperts: 4, k: 2, inputDim: D, seed: 21 }) }), 4);
  });
});

describe('MixtureOfExperts at evaluation (padded layout) around the routers', () => {
  const routers: [string, () => Router & { dispose(): void }][] = [
    ['GatedRouter(LinearGate, TopKChoice)', () => new GatedRouter({ gate: new LinearGate({ numOutputs: 4, inputDim: D, seed: 1 }), algorithm: new TopKChoice({ numExperts: 4, k: 2 }) })],
    ['SwitchRouter', () => new SwitchRouter({ numExperts: 4, inputDim: D, seed: 1 })],
    ['expert choice', () => expertChoiceRouter({ numExperts: 4, inputDim: D, seed: 1 })],
    ['Soft MoE', () => softMoERouter({ numExperts: 4, inputDim: D, seed: 1 })],
    ['BPR', () => new BatchPriorityRouter({ router: new TopKRouter({ numExperts: 4, k: 2, inputDim: D, seed: 2 }) })],
  ];
  for (const [name, make] of routers) {
    it(`${name} with SwiGLU experts: the output agrees within 1e-5`, async () => {
      const experts = new FeedForwardExperts({ numExperts: 4, inputDim: D, hiddenDim: 16, gated: 'swiglu', useBias: true, seed: 3 });
      const moe = new MixtureOfExperts({ router: make(), experts, layout: 'padded', capacity: { train: 1, eval: 1 }, checkFinite: false });
      const x = features();
      tf.tidy(() => { moe.apply(x, { training: false }); }); // builds lazily made weights
      await expectNoLeakedTensors(async () => {
        const run = await traceAndRun([x], (t) => moe.apply(t as tf.Tensor2D, { training: false }).output);
        expect(run.actual[0]!.dims).toEqual([T, D]);
        expect(maxAbsDifference(run.actual[0]!, run.expected[0]!)).toBeLessThanOrEqual(1e-5);
      });
      tf.dispose([x]);
      moe.dispose();
    });
  }

  it('the grouped layout (data-dependent group sizes) is refused by name', async () => {
    const experts = new FeedForwardExperts({ numExperts: 4, inputDim: D, hiddenDim: 16, seed: 3 });
    const moe = new MixtureOfExperts({ router: new SwitchRouter({ numExperts: 4, inputDim: D, seed: 1 }), experts, layout: 'grouped', checkFinite: false });
    const x = features();
    await expect(traceAndRun([x], (t) => moe.apply(t as tf.Tensor2D, { training: false }).output)).rejects.toThrow(/no host read of a value computed from the input.*padded layout/);
    x.dispose();
    moe.dispose();
  });
});
