import * as tf from '@tensorflow/tfjs';
import { MoEArgumentError, MoEDisposedError, type ExpertBank, type Router } from '@moekit/core';
import { expectNoLeakedTensors, FixedRouter, LinearExpertBank } from '@moekit/core/testing';
import { describe, expect, it } from 'vitest';
import { MixtureOfProjectors, type MixtureOfProjectorsArgs, type ProjectorVariant } from './mixture-of-projectors.js';

/** A fixed top-1 router sending token t to `experts[t]` with gate 1 (E = 2). */
const fixed = (experts: number[]) => new FixedRouter({ expertIndex: experts.map((e) => [e]), probs: experts.map((e) => [e === 0 ? 1 : 0, e === 1 ? 1 : 0]) });
/** A bank of 2 width-1 linear experts that multiply by `gains`. */
const bank = (gains: [number, number]) => new LinearExpertBank({ numExperts: 2, inputDim: 1, weights: gains.map((g) => [[g]]) });

/** Builds the variant with the given routers and banks, records which factories were called, projects audio and video (2 ones each). */
function project(variant: ProjectorVariant, routers: Router[], banks: ExpertBank[]) {
  const calls: string[] = [];
  const smop = new MixtureOfProjectors({
    variant,
    numModalities: 2,
    router: (m) => (calls.push(`router(${m})`), routers[m]!),
    experts: (m) => (calls.push(`experts(${m})`), banks[m]!),
    capacity: { train: 0, eval: 0 }, // dropless
  });
  const audio = tf.ones([2, 1]);
  const video = tf.ones([2, 1]);
  const { outputs, auxLosses, metrics } = smop.apply([audio, video], { training: false });
  const result = { calls, outputs: outputs.map((o) => o.arraySync() as number[][]), moes: smop.moes.length, metrics: metrics.length };
  tf.dispose([audio, video, ...outputs, ...Object.values(auxLosses)]);
  smop.dispose();
  return result;
}

describe('MixtureOfProjectors (Llama-SMoP, Cappellazzo et al. 2025)', () => {
  it("JEJR: one router sees all four tokens (audio then video) and sends them to one bank", () => {
    // the FixedRouter has 4 rows: it would throw if it saw a modality alone
    const r = project('JEJR', [fixed([0, 1, 1, 0])], [bank([1, 2])]);
    expect(r.calls).toEqual(['experts(0)', 'router(0)']);
    expect(r.moes).toBe(1);
    expect(r.metrics).toBe(1);
    // audio: experts 0, 1 → [1, 2]; video: experts 1, 0 → [2, 1]
    expect(r.outputs).toEqual([[[1], [2]], [[2], [1]]]);
  });

  it('JEDR: a router per modality, both in front of the one bank', () => {
    const r = project('JEDR', [fixed([0, 0]), fixed([1, 1])], [bank([1, 2])]);
    expect(r.calls).toEqual(['experts(0)', 'router(0)', 'router(1)']);
    expect(r.moes).toBe(2);
    // audio → expert 0 of the shared bank (× 1); video → expert 1 of the same bank (× 2)
    expect(r.outputs).toEqual([[[1], [1]], [[2], [2]]]);
  });

  it('DEDR: a router and a bank per modality', () => {
    const r = project('DEDR', [fixed([1, 0]), fixed([0, 1])], [bank([1, 2]), bank([10, 20])]);
    expect(r.calls).toEqual(['experts(0)', 'router(0)', 'experts(1)', 'router(1)']);
    // audio: its bank's experts 1, 0 → [2, 1]; video: the video bank's experts 0, 1 → [10, 20]
    expect(r.outputs).toEqual([[[2], [1]], [[10], [20]]]);
  });

  it('sums the routers’ aux losses by name; lists a shared bank once; releases it once; leaks nothing', async () => {
    const start = tf.memory().numTensors;
    const shared = bank([1, 2]);
    const make = (): MixtureOfProjectors =>
      new MixtureOfProjectors({ variant: 'JEDR', numModalities: 2, router: (m) => fixed(m === 0 ? [0, 1] : [1, 1]), experts: () => shared, capacity: { train: 0, eval: 0 } });
    const smop = make();
    expect(smop.trainableVariables.length).toBe(1); // the bank's kernel, once (FixedRouters have none)
    const x = tf.ones([2, 1]);
    await expectNoLeakedTensors(() => {
      const out = smop.apply([x, x], { training: true });
      expect(Object.keys(out.auxLosses)).toEqual(['total']);
      expect(out.auxLosses.total.dataSync()[0]).toBe(0);
      tf.dispose([...out.outputs, ...Object.values(out.auxLosses)]);
    });
    smop.dispose();
    smop.dispose(); // idempotent
    expect(() => smop.apply([x, x], { training: false })).toThrow(MoEDisposedError);
    x.dispose();
    expect(() => shared.kernel).toThrow(MoEDisposedError); // released with the last MoE
    expect(tf.memory().numTensors).toBe(start); // the shared kernel and every MoE's state released
  });

  it('rejects bad arguments and inputs with MoEArgumentError naming them', () => {
    const base = { numModalities: 2, router: () => fixed([0, 0]), experts: () => bank([1, 2]) };
    const cases: [Record<string, unknown>, string][] = [
      [{ ...base, variant: 'EDJR' }, "MixtureOfProjectors: argument 'variant' expected 'JEJR' | 'JEDR' | 'DEDR', got EDJR"],
      [{ ...base, variant: 'DEDR', numModalities: 0 }, "MixtureOfProjectors: argument 'numModalities' expected an integer ≥ 1, got 0"],
      [{ ...base, variant: 'DEDR', router: undefined }, "MixtureOfProjectors: argument 'router' expected a function (modality) => component, got undefined"],
      [{ ...base, variant: 'DEDR', topK: 2 }, "MixtureOfProjectors: argument 'topK' expected one of the known options"],
    ];
    for (const [args, message] of cases) {
      const attempt = () => new MixtureOfProjectors(args as unknown as MixtureOfProjectorsArgs);
      expect(attempt).toThrow(MoEArgumentError);
      expect(attempt).toThrow(message);
    }
    const smop = new MixtureOfProjectors({ ...base, variant: 'JEDR' });
    const a = tf.ones([2, 1]);
    const b = tf.ones([2, 3]);
    expect(() => smop.apply([a], { training: false })).toThrow("MixtureOfProjectors.apply: argument 'inputs' expected 2 tensors (one per modality), got 1 tensors");
    expect(() => smop.apply([a, b], { training: false })).toThrow("MixtureOfProjectors.apply: argument 'inputs[1]' expected width 1 (joint experts take every modality at one width), got shape [2, 3]");
    tf.dispose([a, b]);
    smop.dispose();
  });
});
