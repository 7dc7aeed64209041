import '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs';
import { MixtureOfExperts } from '@moekit/core';
import { LinearExpertBank } from '@moekit/core/testing';
import { leaveWasmTestBackend, useWasmTestBackend } from '@moekit/platform/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import './register.js';
import { expertChoiceRouter } from './expert-choice.js';

/** Gradients of one expert choice MoE step on the current backend, as numbers. */
function stepGradients(): number[][] {
  const router = expertChoiceRouter({ numExperts: 3, capacityFactor: 1.25, inputDim: 4, seed: 1 });
  const experts = new LinearExpertBank({ numExperts: 3, inputDim: 4, outputDim: 2, seed: 2 });
  const moe = new MixtureOfExperts({ router, experts, layout: 'padded' });
  const x = tf.randomNormal([10, 4], 0, 1, 'float32', 3);
  const { value, grads } = tf.variableGrads(() => tf.mean(tf.square(moe.apply(x, { training: true }).output)) as tf.Scalar, moe.trainableVariables);
  const result = moe.trainableVariables.map((v) => Array.from(grads[v.name]!.dataSync()));
  tf.dispose([value, x, ...Object.values(grads)]);
  moe.dispose();
  return result;
}

describe('ExpertChoice on wasm', () => {
  let onCpu: number[][];
  beforeAll(async () => {
    onCpu = stepGradients();
    await useWasmTestBackend();
  });
  afterAll(leaveWasmTestBackend);

  it("trains: the gate's and the experts' gradients equal the cpu backend's", () => {
    expect(tf.getBackend()).toBe('wasm');
    const onWasm = stepGradients();
    expect(onWasm.map((g) => g.length)).toEqual([12, 24]); // W_g [4, 3], experts [3, 4, 2]
    onWasm.forEach((g, i) => g.forEach((v, j) => expect(v).toBeCloseTo(onCpu[i]![j]!, 4)));
    expect(onWasm[0]!.some((v) => Math.abs(v) > 1e-4)).toBe(true);
  });
});
