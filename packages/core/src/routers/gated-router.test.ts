import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import '../register.js';
import { GatedRouter } from './gated-router.js';
import { LinearGate } from './linear-gate.js';
import { MixtureOfExperts } from '../mixture-of-experts.js';
import type { RouteOptions, TokenChoiceOutput } from '../contracts/router.js';
import type { RoutingAlgorithm } from '../contracts/routing-algorithm.js';
import { selectTopK } from './select-top-k.js';
import { countHostReads, expectNoLeakedTensors, expectTensorsClose, LinearExpertBank } from '../testing/index.js';

/** The smallest complete routing algorithm (the one in routing-algorithm.ts' doc): Switch's top-1. */
class Top1 extends tf.serialization.Serializable implements RoutingAlgorithm {
  static readonly className = 'TestTop1';
  readonly k = 1;
  constructor(readonly config: { numExperts: number }) {
    super();
  }
  get numExperts(): number {
    return this.config.numExperts;
  }
  route(logits: tf.Tensor2D, _options: RouteOptions): TokenChoiceOutput {
    return tf.tidy(() => {
      const probs = tf.softmax(logits) as tf.Tensor2D;
      return { logits: tf.clone(logits), probs, expertIndex: selectTopK(probs, 1), auxLosses: { total: tf.scalar(0) } };
    });
  }
  override getConfig(): tf.serialization.ConfigDict {
    return { ...this.config };
  }
}
tf.serialization.registerClass(Top1);

describe('GatedRouter (a Gate and a RoutingAlgorithm)', () => {
  it('leaks nothing when the algorithm rejects the scores', async () => {
    const refusing: RoutingAlgorithm = { numExperts: 2, k: 1, route: () => { throw new Error('refused'); } };
    const router = new GatedRouter({ gate: new LinearGate({ numOutputs: 2, inputDim: 2 }), algorithm: refusing });
    const x = tf.ones([3, 2]) as tf.Tensor2D;
    await expectNoLeakedTensors(() => {
      expect(() => router.route(x, { training: false })).toThrow('refused');
    });
    tf.dispose(x);
    router.dispose();
  });

  it('scores with the gate and routes with the algorithm (hand-computed)', () => {
    const gate = new LinearGate({ numOutputs: 2, inputDim: 2 });
    gate.trainableVariables[0]!.assign(tf.tensor2d([[1, 0], [0, 2]])); // logits = [x0, 2·x1]
    const router = new GatedRouter({ gate, algorithm: new Top1({ numExperts: 2 }) });
    const out = router.route(tf.tensor2d([[3, 1], [1, 1]]), { training: true }) as TokenChoiceOutput;
    // logits [[3, 2], [1, 2]] → top-1 [0, 1]; probs softmax: [e/(e+1), 1/(e+1)] and [1/(1+e), e/(1+e)]
    expectTensorsClose(out.logits, [[3, 2], [1, 2]]);
    expect(out.expertIndex.arraySync()).toEqual([[0], [1]]);
    const p = Math.E / (Math.E + 1);
    expectTensorsClose(out.probs, [[p, 1 - p], [1 - p, p]]);
    expect(router.trainableVariables).toEqual(gate.trainableVariables);
    tf.dispose([out.logits, out.probs, out.expertIndex, out.auxLosses.total]);
    router.dispose();
  });

  it('trains in a MixtureOfExperts with no host read per padded step, round-trips its config, leaks nothing', async () => {
    const router = new GatedRouter({ gate: new LinearGate({ numOutputs: 4, seed: 1 }), algorithm: new Top1({ numExperts: 4 }), capacity: { train: 2 } });
    const moe = new MixtureOfExperts({ router, experts: new LinearExpertBank({ numExperts: 4, inputDim: 6, seed: 2 }), layout: 'padded' });
    expect(moe.config.capacity.train).toBe(2); // adopted from the router
    const x = tf.randomNormal([32, 6], 0, 1, 'float32', 3);
    const optimizer = tf.train.sgd(0.1);
    const step = () => optimizer.minimize(() => tf.mean(tf.square(tf.sub(moe.apply(x, { training: true }).output, x))) as tf.Scalar, false, moe.trainableVariables);
    step(); // builds the gate lazily
    expect(router.trainableVariables[0]!.shape).toEqual([6, 4]);
    expect(countHostReads(step).sync).toBe(0);
    await expectNoLeakedTensors(step);
    const copy = GatedRouter.fromConfig(GatedRouter, router.getConfig()) as GatedRouter;
    expect(copy.numExperts).toBe(4);
    expect(copy.gate).toBeInstanceOf(LinearGate);
    expect(copy.capacity).toEqual({ train: 2 });
    expect(() => new GatedRouter({ gate: new LinearGate({ numOutputs: 3 }), algorithm: new Top1({ numExperts: 4 }) })).toThrow("GatedRouter: argument 'gate.numOutputs' expected 4 (the algorithm's numExperts), got 3");
    expect(() => new LinearGate({ numOutputs: 0 })).toThrow("LinearGate: argument 'numOutputs' expected an integer >= 1, got 0");
    tf.dispose(x);
    optimizer.dispose();
    moe.dispose();
    copy.dispose();
  });
});
