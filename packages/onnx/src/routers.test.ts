// Every router's evaluation path, traced on tfjs's cpu backend and run in ONNX Runtime: each returned
// tensor (probs, expert indices, the plan's slots, weights and tokens, soft dispatch/combine weights)
// must agree — floats within 1e-5, int32 and bool exactly.
import * as tf from '@tensorflow/tfjs-core';
import { GatedRouter, LinearGate, isPlannedOutput, isSparsePlan, planRouting, type Router, type RoutingPlan } from '@moekit/core';
import { LinearTopKRouter, expectNoLeakedTensors } from '@moekit/core/testing';
import { TopKChoice, TopKRouter } from '@moekit/router-topk';
import { SwitchRouter } from '@moekit/router-switch';
import { describe, expect, it } from 'vitest';
import { maxAbsDifference, traceAndRun, type TracedRun } from './testing/trace-and-run.js';

const T = 24;
const D = 8;

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
async function traceRouter(router: Router, numExperts: number, capacityFactor = 1.0, seed = 3): Promise<RouterRun> {
  const x = tf.randomNormal([T, D], 0, 1, 'float32', seed);
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
async function checkRouter(make: () => Router & { dispose(): void }, numExperts: number): Promise<RouterRun> {
  const router = make();
  router.route(tf.zeros([T, D]) as tf.Tensor2D, { training: false }); // builds lazily made weights
  let result!: RouterRun;
  try {
    await expectNoLeakedTensors(async () => {
      result = await traceRouter(router, numExperts);
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
});
