import * as tf from '@tensorflow/tfjs-core';
import { combine, dispatch, disposeRoutingPlan, planRouting, selectTopK } from '@moekit/core';
import { expectNoLeakedTensors } from '@moekit/core/testing';
import { FeedForwardExperts, type FeedForwardExpertsArgs } from '@moekit/experts-ffn';
import { describe, expect, it } from 'vitest';
import { encodeOnnxModel } from '../proto/encode-onnx-model.js';
import { OnnxGraph } from '../proto/onnx-graph.js';
import { runOnnx } from '../testing/run-onnx.js';
import { maxAbsDifference } from '../testing/trace-and-run.js';
import { emitPassDroppedTokens, emitSparseExperts, type SparseCombine } from './emit-sparse-experts.js';
import { FfnExpertEmitter } from './ffn-expert-emitter.js';

const T = 32, D = 8, H = 16, E = 4, K = 2;

/** The emitted experts + combine on a plan fed as graph inputs, beside core's dispatch → apply → combine. */
async function compare(args: Partial<FeedForwardExpertsArgs>, capacityFactor: number, sparseCombine: SparseCombine, residual = false) {
  const experts = new FeedForwardExperts({ numExperts: E, hiddenDim: H, seed: 3, ...args });
  experts.build([D]);
  const x = tf.randomNormal([T, D], 0, 1, 'float32', 5) as tf.Tensor2D;
  const probs = tf.tidy(() => tf.softmax(tf.randomNormal([T, E], 0, 1, 'float32', 6))) as tf.Tensor2D; // [T, E]
  const expertIndex = selectTopK(probs, K); // [T, K]
  const plan = planRouting({ probs, expertIndex }, E, { capacityFactor, ...(capacityFactor <= 0 ? { neededCapacity: T * K } : {}) });
  const expected = tf.tidy(() => {
    const routed = combine(experts.apply(dispatch(x, plan)), plan); // [T, D]
    const kept = tf.sum(tf.cast(tf.greaterEqual(plan.slot, 0), 'float32'), 1); // [T]
    return residual ? tf.add(routed, tf.mul(x, tf.reshape(tf.cast(tf.equal(kept, 0), 'float32'), [T, 1]))) : routed;
  });
  const graph = new OnnxGraph('test');
  const names = {
    x: graph.addInput('x', 'float32', [T, D]),
    expertIndex: graph.addInput('expertIndex', 'int32', [T * K]),
    slot: graph.addInput('slot', 'int32', [T * K]),
    combineWeight: graph.addInput('combineWeight', 'float32', [T * K]),
    token: graph.addInput('token', 'int64', [T * K]),
  };
  const emitter = new FfnExpertEmitter(graph, experts, 'test');
  let y = emitSparseExperts(graph, emitter, names.x, names, T, sparseCombine);
  if (residual) y = emitPassDroppedTokens(graph, names.x, y, names, T);
  graph.node('Identity', [y], {}, ['y']);
  graph.addOutput('y', 'float32', [T, D]);
  const ran = await runOnnx(encodeOnnxModel(graph), {
    x: { data: x.dataSync() as Float32Array, dims: [T, D] },
    expertIndex: { data: plan.expertIndex.dataSync() as Int32Array, dims: [T * K] },
    slot: { data: plan.slot.dataSync() as Int32Array, dims: [T * K] },
    combineWeight: { data: plan.combineWeight.dataSync() as Float32Array, dims: [T * K] },
    token: { data: BigInt64Array.from({ length: T * K }, (_, p) => BigInt(Math.floor(p / K))), dims: [T * K] },
  });
  const dropped = plan.dropped.dataSync()[0]!;
  const difference = maxAbsDifference(ran['y']!, { dims: [T, D], data: Array.from(expected.dataSync()) });
  disposeRoutingPlan(plan);
  tf.dispose([x, probs, expertIndex, expected]);
  experts.dispose();
  return { difference, dropped, graph };
}

describe('emitSparseExperts', () => {
  it.each([
    ['relu with biases, scatter per expert', { activation: 'relu' }, 'scatterEach'],
    ['gelu without biases, one concatenated scatter', { activation: 'gelu', useBias: false }, 'concat'],
    ['swish', { activation: 'swish' }, 'scatterEach'],
    ['swiglu without biases', { gated: 'swiglu', useBias: false }, 'concat'],
    ['geglu with biases', { gated: 'geglu' }, 'scatterEach'],
  ] as const)('%s: equals core dispatch → FeedForwardExperts → combine under drops', async (_name, args, how) => {
    await expectNoLeakedTensors(async () => {
      const { difference, dropped, graph } = await compare(args, 0.5, how);
      expect(dropped).toBeGreaterThan(0); // capacity ⌈0.5·32·2/4⌉ = 8 slots per expert for 64 pairs: some drop
      expect(difference).toBeLessThan(1e-5);
      expect(graph.nodes.filter((n) => n.opType === 'ScatterND')).toHaveLength(how === 'concat' ? 1 : E);
    });
  });

  it('passes dropped tokens through with droppedTokens residual, and keeps every pair at a capacity that cannot drop', async () => {
    await expectNoLeakedTensors(async () => {
      const dropping = await compare({}, 0.25, 'scatterEach', true);
      expect(dropping.dropped).toBeGreaterThan(0);
      expect(dropping.difference).toBeLessThan(1e-5);
      const dropless = await compare({}, 0, 'concat');
      expect(dropless.dropped).toBe(0);
      expect(dropless.difference).toBeLessThan(1e-5);
    });
  });

  it('names a bank it cannot write', () => {
    const bank = { numExperts: 2, trainableVariables: [], apply: (t: tf.Tensor) => t, dispose: () => undefined };
    expect(() => new FfnExpertEmitter(new OnnxGraph(), bank, 'exportMixtureOfExperts')).toThrow(/exportMixtureOfExperts: argument 'experts' expected a FeedForwardExperts bank/);
  });
});
