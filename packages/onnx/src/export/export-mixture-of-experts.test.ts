import * as tf from '@tensorflow/tfjs-core';
import { GatedRouter, LinearGate, MixtureOfExperts, type MixtureOfExpertsArgs, type Router } from '@moekit/core';
import { expectNoLeakedTensors } from '@moekit/core/testing';
import { FeedForwardExperts, type FeedForwardExpertsArgs } from '@moekit/experts-ffn';
import { balancedAssignmentRouter, ExpertChoice, HashRouter, SoftMoE, SoftMoEGate } from '@moekit/router-balanced';
import { BatchPriorityRouter } from '@moekit/router-batch-priority';
import { SwitchRouter } from '@moekit/router-switch';
import { CosineGate, TopKChoice, TopKRouter } from '@moekit/router-topk';
import { describe, expect, it } from 'vitest';
import { exportAndRun } from '../testing/export-and-run.js';
import { exportMixtureOfExperts } from './export-mixture-of-experts.js';

const T = 32, D = 8, H = 16, E = 4;

/** A seeded MoE at T=32, D=8, H=16, E=4, built by one evaluation call. */
function makeMoE(router: Router, args: Partial<MixtureOfExpertsArgs> = {}, ffn: Partial<FeedForwardExpertsArgs> = {}): MixtureOfExperts {
  const moe = new MixtureOfExperts({ router, experts: new FeedForwardExperts({ numExperts: E, hiddenDim: H, seed: 3, ...ffn }), dropWarning: 1, ...args });
  moe.build([D]);
  return moe;
}

/** Exports, runs in ONNX Runtime, disposes the MoE; the difference and the pairs moekit dropped. */
async function check(moe: MixtureOfExperts, options = {}) {
  try {
    return await exportAndRun(moe, T, D, options);
  } finally {
    moe.dispose();
  }
}

const routers: Array<[string, () => Router]> = [
  ['TopKRouter softmax top-1', () => new TopKRouter({ numExperts: E, k: 1, seed: 1, kernelInitializer: 'glorotUniform' })],
  ['TopKRouter softmax top-2', () => new TopKRouter({ numExperts: E, k: 2, seed: 1, kernelInitializer: 'glorotUniform' })],
  ['SwitchRouter', () => new SwitchRouter({ numExperts: E, seed: 1 })],
  ['GatedRouter(LinearGate, TopKChoice top-2)', () => new GatedRouter({ gate: new LinearGate({ numOutputs: E, seed: 1 }), algorithm: new TopKChoice({ numExperts: E, k: 2 }) })],
  ['BatchPriorityRouter(TopKRouter top-2)', () => new BatchPriorityRouter({ router: new TopKRouter({ numExperts: E, k: 2, seed: 1, kernelInitializer: 'glorotUniform' }) })],
  ['GatedRouter(CosineGate, TopKChoice top-2)', () => new GatedRouter({ gate: new CosineGate({ numOutputs: E, seed: 1 }), algorithm: new TopKChoice({ numExperts: E, k: 2 }) })],
  ['GatedRouter(LinearGate, TopKChoice sigmoid top-2 with the aux-loss-free bias)', () => new GatedRouter({ gate: new LinearGate({ numOutputs: E, seed: 1 }), algorithm: new TopKChoice({ numExperts: E, k: 2, gating: 'sigmoid', biasUpdateRate: 0.001 }) })],
  ['HashRouter (feature buckets)', () => new HashRouter({ numExperts: E, hashOf: 'featureBucket', bucketBits: 4, seed: 1 })],
  ['balancedAssignmentRouter (BASE, top-1 at evaluation)', () => balancedAssignmentRouter({ numExperts: E, seed: 1 })],
];

/** Routers that plan themselves: their own capacity, so no evaluation capacity of the MoE applies. */
const planningRouters: Array<[string, () => Router]> = [
  ['GatedRouter(LinearGate, ExpertChoice factor 1)', () => new GatedRouter({ gate: new LinearGate({ numOutputs: E, seed: 1 }), algorithm: new ExpertChoice({ numExperts: E, capacityFactor: 1 }) })],
  ['GatedRouter(SoftMoEGate, SoftMoE 2 slots, groups of 8)', () => new GatedRouter({ gate: new SoftMoEGate({ numOutputs: E * 2, seed: 1 }), algorithm: new SoftMoE({ numExperts: E, slotsPerExpert: 2, groupSize: 8 }) })],
];

describe('exportMixtureOfExperts', () => {
  it.each(planningRouters)('%s: equals moe.apply at evaluation, as is and with dropped tokens passed through', async (_name, router) => {
    await expectNoLeakedTensors(async () => {
      const { difference } = await check(makeMoE(router()));
      expect(difference).toBeLessThan(1e-5);
      const residual = await check(makeMoE(router(), { droppedTokens: 'residual' }, { gated: 'swiglu' }));
      expect(residual.difference).toBeLessThan(1e-5);
    });
  });

  describe.each(routers)('%s', (_name, router) => {
    it('equals moe.apply at evaluation with a capacity that drops', async () => {
      await expectNoLeakedTensors(async () => {
        const { difference, dropped } = await check(makeMoE(router(), { capacity: { eval: 0.5 } }));
        expect(dropped).toBeGreaterThan(0); // ⌈0.5·32·K/4⌉ slots per expert for 32·K pairs: the busiest expert drops
        expect(difference).toBeLessThan(1e-5);
      });
    });

    it('equals moe.apply dropless (capacity eval 0) and with dropped tokens passed through', async () => {
      await expectNoLeakedTensors(async () => {
        const dropless = await check(makeMoE(router(), { capacity: { eval: 0 } }));
        expect(dropless.dropped).toBe(0);
        expect(dropless.difference).toBeLessThan(1e-5);
        const residual = await check(makeMoE(router(), { capacity: { eval: 0.25 }, droppedTokens: 'residual' }), { sparseCombine: 'scatterEach' });
        expect(residual.dropped).toBeGreaterThan(0);
        expect(residual.difference).toBeLessThan(1e-5);
      });
    });
  });

  it.each([
    ['gelu without biases', { activation: 'gelu', useBias: false }],
    ['swish', { activation: 'swish' }],
    ['swiglu', { gated: 'swiglu' }],
    ['swiglu without biases', { gated: 'swiglu', useBias: false }],
    ['geglu', { gated: 'geglu' }],
  ] as const)('writes FeedForwardExperts with %s', async (_name, ffn) => {
    await expectNoLeakedTensors(async () => {
      const { difference } = await check(makeMoE(new TopKRouter({ numExperts: E, k: 2, seed: 1, kernelInitializer: 'glorotUniform' }), { capacity: { eval: 1 } }, ffn));
      expect(difference).toBeLessThan(1e-5);
    });
  });

  it('names a bad option, an unbuilt bank and a combiner it cannot write', () => {
    const moe = makeMoE(new TopKRouter({ numExperts: E, seed: 1, kernelInitializer: 'glorotUniform' }));
    expect(() => exportMixtureOfExperts(moe, { numTokens: 0 })).toThrow("exportMixtureOfExperts: argument 'numTokens' expected an integer >= 1, got 0");
    expect(() => exportMixtureOfExperts(moe, { numTokens: 4, batchSize: 2 } as never)).toThrow(/exportMixtureOfExperts: argument 'batchSize' expected one of the options numTokens, inputName, outputName, sparseCombine/);
    expect(() => exportMixtureOfExperts(moe, { numTokens: 4, sparseCombine: 'dense' } as never)).toThrow(/argument 'sparseCombine' expected 'scatterEach' \| 'concat', got 'dense'/);
    moe.dispose();
    const unbuilt = new MixtureOfExperts({ router: new TopKRouter({ numExperts: E, seed: 1, kernelInitializer: 'glorotUniform' }), experts: new FeedForwardExperts({ numExperts: E, hiddenDim: H }) });
    expect(() => exportMixtureOfExperts(unbuilt, { numTokens: 4 })).toThrow(/argument 'experts' expected a built bank/);
    unbuilt.dispose();
    const custom = makeMoE(new TopKRouter({ numExperts: E, seed: 1, kernelInitializer: 'glorotUniform' }), { combiner: { combine: (y: tf.Tensor) => y } });
    expect(() => exportMixtureOfExperts(custom, { numTokens: 4 })).toThrow(/argument 'combiner' expected the default weightedSumCombiner/);
    custom.dispose();
  });
});
