import * as tf from '@tensorflow/tfjs';
import { componentConfig, expectTokenChoice, fromComponentConfig, MoEDisposedError, type Router } from '@moekit/core';
import { expectNoLeakedTensors, expectTensorsClose, FixedRouter, LinearTopKRouter } from '@moekit/core/testing';
import { describe, expect, it } from 'vitest';
import './register.js';
import { HardConstraintRouter } from './hard-constraint-router.js';
import { SoftConstraintRouter } from './soft-constraint-router.js';

// E = 2, D = 2, top-1. Kernel [[ln 3, 0], [0, 0]]: token [1, 0] has logits [ln 3, 0] → probs [0.75, 0.25];
// token [0, 1] has [0, 0] → [0.5, 0.5], a tie the top-1 gives to expert 0. Both tokens go to expert 0:
// the sparse clean gates G̃ are [[0.75, 0], [0.5, 0]], importance Σ_x G̃ = [1.25, 0], shares [1, 0] — while
// the full softmax's importance [1.25, 0.75] looks almost balanced.
function linearRouter(): LinearTopKRouter {
  const router = new LinearTopKRouter({ inputDim: 2, numExperts: 2, k: 1, balanceWeight: 0 });
  router.kernel.assign(tf.tensor2d([[Math.log(3), 0], [0, 0]]));
  return router;
}
const tokens = () => tf.tensor2d([[1, 0], [0, 1]]);
const dispose = (out: ReturnType<Router['route']>) => tf.dispose([out.logits, out.probs, expectTokenChoice(out, 'test').expertIndex, ...Object.values(out.auxLosses)]);

describe('HardConstraintRouter', () => {
  it('relative: tracks Σ (s_i − 1/E)/(1/E) of the sparse-gate shares and excludes the experts above the threshold, in training only by default', () => {
    const router = new HardConstraintRouter({ router: linearRouter(), mode: 'relative', threshold: 0.1 });
    const x = tokens();
    dispose(router.route(x, { training: true })); // nothing excluded yet; shares [1, 0] → u = [(1 − 0.5)/0.5, (0 − 0.5)/0.5] = [1, −1]
    expect(router.utilization).toEqual([1, -1]);
    expect(router.excludedExperts).toEqual([true, false]);
    const masked = expectTokenChoice(router.route(x, { training: true }), 'test'); // expert 0 excluded: probs [0, 1] for both tokens, shares [0, 1]
    expect(Array.from(masked.expertIndex.dataSync())).toEqual([1, 1]);
    expectTensorsClose(masked.probs, [[0, 1], [0, 1]], { atol: 0 });
    dispose(masked);
    expect(router.utilization).toEqual([0, 0]); // [1 − 1, −1 + 1]
    router.setState([0.5, -0.5], 2);
    const evaluation = expectTokenChoice(router.route(x, { training: false }), 'test'); // evaluation: nothing masked, nothing tracked
    expect(Array.from(evaluation.expertIndex.dataSync())).toEqual([0, 0]);
    dispose(evaluation);
    expect(router.utilization).toEqual([0.5, -0.5]);
    x.dispose();
    router.dispose();
  });

  it('absolute: tracks mean(s_i) − 1/E', () => {
    const router = new HardConstraintRouter({ router: linearRouter(), mode: 'absolute', threshold: 0.1 });
    const x = tokens();
    dispose(router.route(x, { training: true })); // shares [1, 0] → u = [0.5, −0.5]
    expectTensorsClose(tf.tensor(router.utilization), [0.5, -0.5], { atol: 1e-6 });
    dispose(router.route(x, { training: true })); // expert 0 masked: shares [0, 1]; means [0.5, 0.5] − 0.5
    expectTensorsClose(tf.tensor(router.utilization), [0, 0], { atol: 1e-6 });
    expect(router.excludedExperts).toEqual([false, false]);
    x.dispose();
    router.dispose();
  });

  it('applyInEvaluation: evaluation excludes the over-threshold experts of the tracked state and does not update it', () => {
    const router = new HardConstraintRouter({ router: linearRouter(), mode: 'relative', threshold: 0.1, applyInEvaluation: true });
    const x = tokens();
    router.setState([0.5, -0.5], 2); // expert 0 over the threshold
    const evaluation = expectTokenChoice(router.route(x, { training: false }), 'test'); // logits [−1e9, 0] → probs [0, 1]
    expect(Array.from(evaluation.expertIndex.dataSync())).toEqual([1, 1]);
    expectTensorsClose(evaluation.probs, [[0, 1], [0, 1]], { atol: 0 });
    dispose(evaluation);
    expect(router.utilization).toEqual([0.5, -0.5]); // unchanged
    router.applyInEvaluation = false; // switched off: the same state, evaluation unmasked
    const unmasked = expectTokenChoice(router.route(x, { training: false }), 'test');
    expect(Array.from(unmasked.expertIndex.dataSync())).toEqual([0, 0]);
    dispose(unmasked);
    router.applyInEvaluation = true;
    router.setState([0, 0], 2); // nothing over: evaluation routes as the wrapped router
    const free = expectTokenChoice(router.route(x, { training: false }), 'test');
    expect(Array.from(free.expertIndex.dataSync())).toEqual([0, 0]);
    dispose(free);
    x.dispose();
    router.dispose();
  });

  it('masks from a hand-set state: exactly the experts over the threshold, at most E − k of them', () => {
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
    // E = 4, k = 2: three experts over 0.1, but only E − k = 2 may go — the two most over-used
    const top2 = new HardConstraintRouter({ router: new LinearTopKRouter({ inputDim: 3, numExperts: 4, k: 2 }), threshold: 0.1 });
    top2.setState([0.4, 0.6, 0.5, -1.5], 3);
    expect(top2.excludedExperts).toEqual([false, true, true, false]);
    top2.dispose();
  });

  it('names bad input and does not leak', async () => {
    expect(() => new HardConstraintRouter({ router: linearRouter(), threshold: 0 })).toThrow("HardConstraintRouter: argument 'threshold' expected a number in (0, 1], got 0");
    expect(() => new HardConstraintRouter({ router: linearRouter(), threshold: 1.5 })).toThrow("argument 'threshold' expected a number in (0, 1], got 1.5");
    expect(() => new HardConstraintRouter({ router: linearRouter(), inEval: true } as never)).toThrow("HardConstraintRouter");
    const fixed = new FixedRouter({ expertIndex: [[0]], probs: [[1, 0]] });
    expect(() => new HardConstraintRouter({ router: fixed })).toThrow("HardConstraintRouter: argument 'router' expected a router with the 'excludedExperts' capability (it honours RouteOptions.excludedExperts), got FixedRouter, which does not declare it");
    const router = new HardConstraintRouter({ router: linearRouter(), applyInEvaluation: true });
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
  it('adds weight · CV(Σ_x G̃)² of the sparse clean gates in training, until liftAfterEpoch', () => {
    const x = tokens();
    // importance over G̃ = [1.25, 0]: mean 0.625, population variance 0.625² → CV² = 1
    // (over the full softmax, [1.25, 0.75] would give only 0.0625)
    const importance = new SoftConstraintRouter({ router: linearRouter(), loss: 'importance', weight: 0.1, liftAfterEpoch: 2 });
    expect(new SoftConstraintRouter({ router: linearRouter() }).loss).toBe('klUniform'); // the default
    let out = importance.route(x, { training: true });
    expectTensorsClose(out.auxLosses.softConstraint!, 1, { atol: 1e-6 });
    expectTensorsClose(out.auxLosses.total, 0.1, { atol: 1e-7 }); // the inner router's balance weight is 0
    dispose(out);
    importance.setEpoch(2);
    out = importance.route(x, { training: true });
    expect(out.auxLosses.softConstraint).toBeUndefined();
    dispose(out);
    tf.dispose(x);
    importance.dispose();
  });

  it('klUniform: KL(U ‖ s) of the normalised mean sparse gate plus ε; 0 when balanced; nothing at evaluation', () => {
    const x = tokens();
    // mean G̃ = [0.625, 0]; ε = 1e-6: s = [0.625 + ε, ε] / (0.625 + 2ε); KL = ½ ln(0.5/s_0) + ½ ln(0.5/s_1) ≈ 5.98
    const s = [(0.625 + 1e-6) / (0.625 + 2e-6), 1e-6 / (0.625 + 2e-6)];
    const kl = new SoftConstraintRouter({ router: linearRouter(), loss: 'klUniform', weight: 1 });
    let out = kl.route(x, { training: true });
    expectTensorsClose(out.auxLosses.softConstraint!, 0.5 * Math.log(0.5 / s[0]!) + 0.5 * Math.log(0.5 / s[1]!), { atol: 1e-4 });
    dispose(out);
    out = kl.route(x, { training: false }); // evaluation: no constraint
    expect(out.auxLosses.softConstraint).toBeUndefined();
    dispose(out);
    // kernel [[ln 3, 0], [0, ln 3]]: token [1, 0] → G̃ [0.75, 0], token [0, 1] → G̃ [0, 0.75]; mean [0.375, 0.375] → s uniform → 0
    const inner = new LinearTopKRouter({ inputDim: 2, numExperts: 2, k: 1, balanceWeight: 0 });
    inner.kernel.assign(tf.tensor2d([[Math.log(3), 0], [0, Math.log(3)]]));
    const balanced = new SoftConstraintRouter({ router: inner, loss: 'klUniform', weight: 1 });
    out = balanced.route(x, { training: true });
    expectTensorsClose(out.auxLosses.softConstraint!, 0, { atol: 1e-6 });
    dispose(out);
    expect(() => new SoftConstraintRouter({ router: linearRouter(), loss: 'cv' as never })).toThrow("SoftConstraintRouter: argument 'loss' expected one of 'importance' | 'klUniform', got 'cv'");
    expect(() => new SoftConstraintRouter({ router: linearRouter(), epsilon: 0 })).toThrow("SoftConstraintRouter: argument 'epsilon' expected a finite number > 0, got 0");
    tf.dispose(x);
    kl.dispose();
    balanced.dispose();
  });

  it('at full collapse the KL still lowers the over-used expert, while the importance CV² (scale-invariant: E − 1 for any mass) has no gradient', () => {
    const x = tokens(); // both tokens on expert 0 (G̃ = [[0.75, 0], [0.5, 0]])
    const gradient = (loss: 'importance' | 'klUniform') => {
      const router = new SoftConstraintRouter({ router: linearRouter(), loss, weight: 1 });
      const { value, grads } = tf.variableGrads(() => {
        const out = router.route(x, { training: true });
        tf.dispose([out.logits, out.probs, expectTokenChoice(out, 'test').expertIndex]);
        return out.auxLosses.total;
      }, router.trainableVariables);
      const g = grads[router.trainableVariables[0]!.name]!.arraySync() as number[][]; // [D, E] ∂L/∂W
      tf.dispose([value, ...Object.values(grads)]);
      router.dispose();
      return g;
    };
    const kl = gradient('klUniform'); // ∂KL/∂m_0 = (1/E)(E/(Σm + Eε) − 1/(m_0 + ε)) > 0: descent lowers p_0 of both tokens
    expect(kl[0]![0]!).toBeGreaterThan(0); // the weight that sends token [1, 0] to expert 0 goes down
    expect(kl[0]![1]!).toBeLessThan(0); // and expert 1's goes up
    expect(kl[1]![0]!).toBeGreaterThan(0);
    expect(kl[1]![1]!).toBeLessThan(0);
    expectTensorsClose(tf.tensor(gradient('importance')), [[0, 0], [0, 0]], { atol: 1e-6 });
    x.dispose();
  });
});

describe('constraint routers as components', () => {
  it('save and load with the router they wrap (its config inside theirs, its weights under router/)', () => {
    const hard = new HardConstraintRouter({ router: linearRouter(), mode: 'absolute', threshold: 0.2 });
    hard.applyInEvaluation = true; // switched after construction: saved as it is now
    const soft = new SoftConstraintRouter({ router: linearRouter(), loss: 'importance', weight: 0.5, liftAfterEpoch: 3 });
    for (const original of [hard, soft]) {
      const saved = componentConfig(original, 'test', 'router');
      expect(saved.package).toBe('@moekit/experts-conv');
      expect(saved.config['router']).toMatchObject({ className: 'LinearTopKRouter', config: { inputDim: 2, numExperts: 2, k: 1, balanceWeight: 0 } });
      const loaded = fromComponentConfig<HardConstraintRouter | SoftConstraintRouter>(JSON.parse(JSON.stringify(saved)), 'test', 'router');
      expect(loaded.constructor).toBe(original.constructor);
      expect(loaded.getConfig()).toEqual(original.getConfig());
      expect(loaded.namedVariables().map(([name, v]) => [name, v.shape])).toEqual([['router/kernel', [2, 2]]]);
      loaded.dispose();
    }
    expect(hard.getConfig()).toMatchObject({ mode: 'absolute', threshold: 0.2, applyInEvaluation: true });
    expect(soft.getConfig()).toMatchObject({ loss: 'importance', weight: 0.5, liftAfterEpoch: 3, epsilon: 1e-6 });
    expect(new SoftConstraintRouter({ router: linearRouter() }).liftAfterEpoch).toBe(Infinity); // unset: never lifted (and not saved)
    hard.dispose();
    soft.dispose();
  });

  it('throw MoEDisposedError once disposed, the wrapped router released with them', () => {
    const inner = linearRouter();
    const hard = new HardConstraintRouter({ router: inner });
    const soft = new SoftConstraintRouter({ router: linearRouter() });
    hard.dispose();
    soft.dispose();
    expect(inner.isDisposed).toBe(true);
    const x = tokens();
    expect(() => hard.route(x, { training: true })).toThrow('HardConstraintRouter.route: this HardConstraintRouter was disposed');
    expect(() => soft.route(x, { training: true })).toThrow(MoEDisposedError);
    x.dispose();
  });
});
