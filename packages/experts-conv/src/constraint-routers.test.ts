import * as tf from '@tensorflow/tfjs';
import { expectTokenChoice, type Router } from '@moekit/core';
import { expectNoLeakedTensors, expectTensorsClose, FixedRouter, LinearTopKRouter } from '@moekit/core/testing';
import { describe, expect, it } from 'vitest';
import { HardConstraintRouter } from './hard-constraint-router.js';
import { SoftConstraintRouter } from './soft-constraint-router.js';

// E = 2, D = 2, top-1. Kernel [[ln 3, 0], [0, 0]]: token [1, 0] has logits [ln 3, 0] → probs [0.75, 0.25];
// token [0, 1] has [0, 0] → [0.5, 0.5]. Importance I = [1.25, 0.75], T = 2, uniform share T/E = 1.
function linearRouter(): LinearTopKRouter {
  const router = new LinearTopKRouter({ inputDim: 2, numExperts: 2, k: 1, balanceWeight: 0 });
  router.kernel.assign(tf.tensor2d([[Math.log(3), 0], [0, 0]]));
  return router;
}
const tokens = () => tf.tensor2d([[1, 0], [0, 1]]);
const dispose = (out: ReturnType<Router['route']>) => tf.dispose([out.logits, out.probs, expectTokenChoice(out, 'test').expertIndex, ...Object.values(out.auxLosses)]);

describe('HardConstraintRouter', () => {
  it('relative: tracks Σ (I_i − T/E)/(T/E) and excludes exactly the experts above the threshold, in training only', () => {
    const router = new HardConstraintRouter({ router: linearRouter(), mode: 'relative', threshold: 0.1 });
    const x = tokens();
    dispose(router.route(x, { training: true })); // nothing excluded yet; u = [0.25, −0.25]
    expect(router.utilization).toEqual([0.25, -0.25]);
    expect(router.excludedExperts).toEqual([true, false]);
    const masked = expectTokenChoice(router.route(x, { training: true }), 'test'); // expert 0 excluded: probs [0, 1] for both tokens, I = [0, 2]
    expect(Array.from(masked.expertIndex.dataSync())).toEqual([1, 1]);
    expectTensorsClose(masked.probs, [[0, 1], [0, 1]], { atol: 0 });
    dispose(masked);
    expect(router.utilization).toEqual([0.25 - 1, -0.25 + 1]); // [−0.75, 0.75]
    expect(router.excludedExperts).toEqual([false, true]);
    const evaluation = expectTokenChoice(router.route(x, { training: false }), 'test'); // evaluation: nothing masked, nothing tracked
    expect(Array.from(evaluation.expertIndex.dataSync())).toEqual([0, 0]);
    dispose(evaluation);
    expect(router.utilization).toEqual([-0.75, 0.75]);
    x.dispose();
    router.dispose();
  });

  it('absolute: tracks mean(I_i / T) − 1/E', () => {
    const router = new HardConstraintRouter({ router: linearRouter(), mode: 'absolute', threshold: 0.1 });
    const x = tokens();
    dispose(router.route(x, { training: true })); // I/T = [0.625, 0.375] → u = [0.125, −0.125]
    expectTensorsClose(tf.tensor(router.utilization), [0.125, -0.125], { atol: 1e-6 });
    dispose(router.route(x, { training: true })); // expert 0 masked: I/T = [0, 1]; means [0.3125, 0.6875] − 0.5
    expectTensorsClose(tf.tensor(router.utilization), [-0.1875, 0.1875], { atol: 1e-6 });
    expect(router.excludedExperts).toEqual([false, true]);
    x.dispose();
    router.dispose();
  });

  it('masks from a hand-set state: exactly the experts over the threshold', () => {
    const inner = new LinearTopKRouter({ inputDim: 3, numExperts: 4, k: 1 });
    const router = new HardConstraintRouter({ router: inner, mode: 'relative', threshold: 0.5 });
    router.setState([0.6, 0.5, -0.2, 0.51], 3);
    expect(router.excludedExperts).toEqual([true, false, false, true]); // 0.5 is not above 0.5
    const x = tf.randomNormal([32, 3], 0, 1, 'float32', 1) as tf.Tensor2D;
    const out = expectTokenChoice(router.route(x, { training: true }), 'test');
    const chosen = new Set(out.expertIndex.dataSync());
    expect(chosen.has(0) || chosen.has(3)).toBe(false);
    dispose(out);
    x.dispose();
    router.dispose();
  });

  it('names bad input and does not leak', async () => {
    expect(() => new HardConstraintRouter({ router: linearRouter(), threshold: 0 })).toThrow("HardConstraintRouter: argument 'threshold' expected a number in (0, 1], got 0");
    expect(() => new HardConstraintRouter({ router: linearRouter(), threshold: 1.5 })).toThrow("argument 'threshold' expected a number in (0, 1], got 1.5");
    const fixed = new FixedRouter({ expertIndex: [[0]], probs: [[1, 0]] });
    expect(() => new HardConstraintRouter({ router: fixed })).toThrow("HardConstraintRouter: argument 'router' expected a router that honours excludedExperts (supportsExcludedExperts: true), got FixedRouter, which does not");
    const router = new HardConstraintRouter({ router: linearRouter() });
    const x = tokens();
    await expectNoLeakedTensors(() => {
      dispose(router.route(x, { training: true }));
      dispose(router.route(x, { training: false }));
    });
    x.dispose();
    router.dispose();
  });
});

describe('SoftConstraintRouter', () => {
  it('adds weight · CV(I)² or weight · KL(U ‖ p̄) in training, until liftAfterEpoch', () => {
    const x = tokens();
    // importance I = [1.25, 0.75]: mean 1, population variance 0.0625 → CV² = 0.0625
    const importance = new SoftConstraintRouter({ router: linearRouter(), loss: 'importance', weight: 0.1, liftAfterEpoch: 2 });
    let out = importance.route(x, { training: true });
    expectTensorsClose(out.auxLosses.softConstraint!, 0.0625, { atol: 1e-6 });
    expectTensorsClose(out.auxLosses.total, 0.00625, { atol: 1e-7 }); // the inner router's balance weight is 0
    dispose(out);
    importance.setEpoch(2);
    out = importance.route(x, { training: true });
    expect(out.auxLosses.softConstraint).toBeUndefined();
    dispose(out);
    // p̄ = [0.625, 0.375]: KL(U ‖ p̄) = ½ ln(0.5/0.625) + ½ ln(0.5/0.375) = 0.032271
    const kl = new SoftConstraintRouter({ router: linearRouter(), loss: 'klUniform', weight: 1 });
    out = kl.route(x, { training: true });
    expectTensorsClose(out.auxLosses.softConstraint!, 0.5 * Math.log(0.5 / 0.625) + 0.5 * Math.log(0.5 / 0.375), { atol: 1e-6 });
    dispose(out);
    out = kl.route(x, { training: false }); // evaluation: no constraint
    expect(out.auxLosses.softConstraint).toBeUndefined();
    dispose(out);
    expect(() => new SoftConstraintRouter({ router: linearRouter(), loss: 'cv' as never })).toThrow("SoftConstraintRouter: argument 'loss' expected one of 'importance' | 'klUniform', got 'cv'");
    tf.dispose(x);
    importance.dispose();
    kl.dispose();
  });
});
