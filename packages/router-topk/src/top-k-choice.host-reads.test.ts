import * as tf from '@tensorflow/tfjs';
import { GatedRouter, LinearGate, MixtureOfExperts, type BufferLayout, type Gate } from '@moekit/core';
import { countHostReads as countReads, LinearExpertBank } from '@moekit/core/testing';
import { describe, expect, it } from 'vitest';
import './register.js';
import { CosineGate } from './cosine-gate.js';
import { TopKChoice, type TopKChoiceArgs } from './top-k-choice.js';

/** Reads back to the host (sync and async, through the engine) while `fn` runs: core's counter. */
const countHostReads = (fn: () => void) => {
  const { sync, async } = countReads(fn);
  return sync + async;
};

const E = 4;
const D = 6;

/** An MoE of linear experts behind `gate` and a TopKChoice, a fixed capacity factor, and one Adam step. */
function trainingStep(gate: Gate, algorithmArgs: Omit<TopKChoiceArgs, 'numExperts'>, layout: BufferLayout) {
  const moe = new MixtureOfExperts({ router: new GatedRouter({ gate, algorithm: new TopKChoice({ numExperts: E, k: 2, ...algorithmArgs }) }), experts: new LinearExpertBank({ numExperts: E, inputDim: D, outputDim: 2, seed: 1 }), capacity: { train: 1.25 }, layout });
  const optimizer = tf.train.adam(0.01);
  const x = tf.randomNormal([64, D], 0, 1, 'float32', 2);
  const y = tf.randomNormal([64, 2], 0, 1, 'float32', 3);
  const step = () => optimizer.minimize(() => {
    const r = moe.apply(x, { training: true });
    return tf.add(tf.mean(tf.square(tf.sub(r.output, y))), r.auxLosses.total) as tf.Scalar;
  }, false, moe.trainableVariables);
  return { step, dispose: () => { tf.dispose([x, y]); optimizer.dispose(); moe.lastMetrics?.dispose(); moe.dispose(); } };
}

describe('no host read on the routing path', () => {
  const cases: [string, () => Gate, Omit<TopKChoiceArgs, 'numExperts'>][] = [
    ['CosineGate + sigmoid top-k + aux-loss-free bias', () => new CosineGate({ numOutputs: E, inputDim: D, seed: 4 }), { gating: 'sigmoid', biasUpdateRate: 1e-3 }],
    ['CosineGate + softmax top-k + Switch loss', () => new CosineGate({ numOutputs: E, inputDim: D, seed: 4 }), { gating: 'softmax', loadBalancingWeight: 0.01 }],
    ['LinearGate + sigmoid top-k + aux-loss-free bias', () => new LinearGate({ numOutputs: E, inputDim: D, seed: 4 }), { gating: 'sigmoid', biasUpdateRate: 1e-3 }],
  ];
  for (const [name, gate, args] of cases) {
    it(`${name}: a training step (forward, backward, Adam, bias update) with layout 'padded' reads nothing`, () => {
      const t = trainingStep(gate(), args, 'padded');
      expect(countHostReads(t.step)).toBe(0); // the first step
      expect(countHostReads(t.step)).toBe(0);
      t.dispose();
    });
  }

  it('a CosineGate built lazily by the first route call reads nothing either', () => {
    const algorithm = new TopKChoice({ numExperts: E, k: 2, gating: 'sigmoid', biasUpdateRate: 1e-3 });
    const router = new GatedRouter({ gate: new CosineGate({ numOutputs: E, seed: 5 }), algorithm });
    const x = tf.randomNormal([16, D], 0, 1, 'float32', 6) as tf.Tensor2D;
    let out: ReturnType<GatedRouter['route']> | undefined;
    expect(countHostReads(() => { out = router.route(x, { training: true }); })).toBe(0);
    expect(router.trainableVariables).toHaveLength(3); // built: W_p, E_emb, log τ
    tf.dispose([out!.logits, out!.probs, ...Object.values(out!.auxLosses), ...('expertIndex' in out! ? [out!.expertIndex] : [])]);
    x.dispose();
    router.dispose();
  });

  it("the counter sees reads: the 'grouped' layout reads the group sizes once per step", () => {
    const t = trainingStep(new CosineGate({ numOutputs: E, inputDim: D, seed: 4 }), { gating: 'sigmoid', biasUpdateRate: 1e-3 }, 'grouped');
    expect(countHostReads(t.step)).toBe(1);
    const probe = tf.scalar(1);
    expect(countHostReads(() => void probe.dataSync())).toBe(1);
    expect(countHostReads(() => void probe.arraySync())).toBe(1);
    probe.dispose();
    t.dispose();
  });
});
