import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import '../register.js';
import { GatedRouter } from '../routers/gated-router.js';
import { LinearGate } from '../routers/linear-gate.js';
import { selectTopK } from '../routers/select-top-k.js';
import { assignSlots } from '../routing/assign-slots.js';
import { computeCapacity } from '../routing/capacity.js';
import { planRouting } from '../routing/plan-routing.js';
import { importanceLoss } from '../losses/importance-loss.js';
import type { RoutingAlgorithm } from '../contracts/routing-algorithm.js';
import type { TokenChoiceOutput } from '../contracts/router.js';
import { expectNoLeakedTensors } from '../testing/index.js';

const top1: RoutingAlgorithm = {
  numExperts: 2,
  k: 1,
  route: (logits): TokenChoiceOutput => tf.tidy(() => ({ logits: tf.clone(logits), probs: tf.softmax(logits) as tf.Tensor2D, expertIndex: selectTopK(logits, 1), auxLosses: { total: tf.scalar(0) } })),
};

// issue 18: every public options object in core names a misspelt key instead of ignoring it
describe('misspelt options are rejected by name, listing the known ones', () => {
  it('route and scores options (train for training), and a non-boolean training', async () => {
    const gate = new LinearGate({ numOutputs: 2, inputDim: 3 });
    const router = new GatedRouter({ gate, algorithm: top1 });
    const x = tf.ones([4, 3]) as tf.Tensor2D;
    await expectNoLeakedTensors(() => {
      expect(() => router.route(x, { train: true } as never)).toThrow("GatedRouter.route: argument 'train' expected one of the known options (training, excludedExperts), got unknown option 'train'");
      expect(() => gate.scores(x, { training: true, excluded: [true, false] } as never)).toThrow("LinearGate.scores: argument 'excluded' expected one of the known options (training, excludedExperts), got unknown option 'excluded'");
      expect(() => router.route(x, {} as never)).toThrow("GatedRouter.route: argument 'options.training' expected true or false, got undefined");
    });
    x.dispose();
    router.dispose();
  });

  it('planRouting, computeCapacity, assignSlots and importanceLoss options', () => {
    const probs = tf.tensor2d([[0.9, 0.1], [0.2, 0.8]]);
    const expertIndex = tf.tensor2d([[0], [1]], [2, 1], 'int32');
    expect(() => planRouting({ probs, expertIndex }, 2, { capacityFactor: 1, renormalise: 'none' } as never)).toThrow("planRouting: argument 'renormalise' expected one of the known options (capacityFactor, preset, rounding, multiplyByK, multipleOf, minCapacity, renormalize, secondChoiceOffset, slotOrder, neededCapacity, validate), got unknown option 'renormalise'");
    expect(() => computeCapacity({ numTokens: 8, numExperts: 2, k: 1, capacityFactor: 1, min: 4 } as never)).toThrow("computeCapacity: argument 'min' expected one of the known options (numTokens, numExperts, k, capacityFactor, neededCapacity, preset, rounding, multiplyByK, multipleOf, minCapacity), got unknown option 'min'");
    expect(() => assignSlots(expertIndex as tf.Tensor2D, 2, 1, { offset: 'all' } as never)).toThrow("assignSlots: argument 'offset' expected one of the known options (priority, secondChoiceOffset, slotOrder, pairPriority, validate), got unknown option 'offset'");
    expect(() => importanceLoss(probs, { unbiased: true } as never)).toThrow("importanceLoss: argument 'unbiased' expected one of the known options (variance), got unknown option 'unbiased'");
    tf.dispose([probs, expertIndex]);
  });
});
