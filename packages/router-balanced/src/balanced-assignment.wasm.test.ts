import '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs';
import { MixtureOfExperts, type SparseRoutingPlan } from '@moekit/core';
import { LinearExpertBank } from '@moekit/core/testing';
import { leaveWasmTestBackend, useWasmTestBackend } from '@moekit/platform/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import './register.js';
import { balancedAssignmentRouter } from './balanced-assignment-router.js';

/** One BASE training step on the current backend: the assignment and the gate's gradient, as numbers. */
function step(): { experts: number[]; grad: number[] } {
  const router = balancedAssignmentRouter({ numExperts: 4, inputDim: 6, seed: 1 });
  const moe = new MixtureOfExperts({ router, experts: new LinearExpertBank({ numExperts: 4, inputDim: 6, seed: 2 }), layout: 'padded' });
  const x = tf.randomNormal([50, 6], 0, 1, 'float32', 3) as tf.Tensor2D; // 50 = 13 + 13 + 12 + 12: uneven shares
  const out = router.route(x, { training: true }) as { plan: SparseRoutingPlan };
  const experts = Array.from(out.plan.expertIndex.dataSync());
  const { value, grads } = tf.variableGrads(() => tf.mean(tf.square(moe.apply(x, { training: true }).output)) as tf.Scalar, router.trainableVariables);
  const grad = Array.from(grads[router.trainableVariables[0]!.name]!.dataSync());
  tf.dispose([value, x, ...Object.values(grads), ...Object.values(out.plan).filter((t): t is tf.Tensor => t instanceof tf.Tensor)]);
  moe.dispose();
  return { experts, grad };
}

describe('BalancedAssignment on wasm', () => {
  let onCpu: ReturnType<typeof step>;
  beforeAll(async () => {
    onCpu = step();
    await useWasmTestBackend();
  });
  afterAll(leaveWasmTestBackend);

  it('assigns exactly as on cpu (the int32 clamps use maximum/minimum: wasm ClipByValue does not clamp int32)', () => {
    expect(tf.getBackend()).toBe('wasm');
    const onWasm = step();
    expect(onWasm.experts).toEqual(onCpu.experts);
    const counts = [0, 1, 2, 3].map((e) => onWasm.experts.filter((x) => x === e).length);
    expect(counts).toEqual([13, 13, 12, 12]);
    onWasm.grad.forEach((v, j) => expect(v).toBeCloseTo(onCpu.grad[j]!, 4));
  });
});
