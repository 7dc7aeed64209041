import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { MixtureOfExperts } from './mixture-of-experts.js';
import { selectTopK } from './routers/select-top-k.js';
import { LinearExpertBank, LinearTopKRouter } from './testing/index.js';

function makeMoE(k: number, balanceWeight: number, capacityFactorTrain = 1.25) {
  return new MixtureOfExperts({
    router: new LinearTopKRouter({ inputDim: 6, numExperts: 4, k, balanceWeight, seed: 11 }),
    experts: new LinearExpertBank({ numExperts: 4, inputDim: 6, outputDim: 3, seed: 12 }),
    capacity: { train: capacityFactorTrain },
  });
}

const allFinite = (t: tf.Tensor) => Array.from(t.dataSync()).every(Number.isFinite);
const norm = (t: tf.Tensor) => tf.tidy(() => tf.norm(t).dataSync()[0]!);

describe('gradients through the MoE', () => {
  for (const k of [1, 2]) {
    it(`reach the router, the experts and the input (k = ${k}), all finite`, () => {
      const moe = makeMoE(k, 0.01);
      const x = tf.randomNormal([16, 6], 0, 1, 'float32', 13);
      const f = (input: tf.Tensor, ...vars: tf.Tensor[]) => {
        void vars;
        const r = moe.apply(input, { training: true });
        return tf.add(tf.sum(tf.square(r.output)), r.auxLosses.total) as tf.Scalar;
      };
      const { grads } = tf.variableGrads(() => f(x));
      const router = grads[moe.router.trainableVariables[0]!.name]!;
      const expert = grads[moe.experts.trainableVariables[0]!.name]!;
      expect(allFinite(router) && allFinite(expert)).toBe(true);
      expect(norm(router)).toBeGreaterThan(0);
      expect(norm(expert)).toBeGreaterThan(0);
      const dx = tf.grad((input: tf.Tensor) => f(input))(x);
      expect(allFinite(dx)).toBe(true);
      expect(norm(dx)).toBeGreaterThan(0);
      tf.dispose([x, dx, ...Object.values(grads)]);
      moe.dispose();
    });
  }

  it('the router learns through the combine weights alone (no aux loss)', () => {
    const moe = makeMoE(1, 0);
    const x = tf.randomNormal([16, 6], 0, 1, 'float32', 14);
    const { grads } = tf.variableGrads(() => {
      const r = moe.apply(x, { training: true });
      return tf.sum(tf.square(r.output)) as tf.Scalar;
    }, moe.router.trainableVariables);
    expect(norm(grads[moe.router.trainableVariables[0]!.name]!)).toBeGreaterThan(0);
    tf.dispose([x, ...Object.values(grads)]);
    moe.dispose();
  });

  it('the router learns through the aux loss alone', () => {
    const moe = makeMoE(2, 1);
    const x = tf.randomNormal([16, 6], 0, 1, 'float32', 15);
    const { grads } = tf.variableGrads(() => moe.apply(x, { training: true }).auxLosses.total, moe.router.trainableVariables);
    expect(norm(grads[moe.router.trainableVariables[0]!.name]!)).toBeGreaterThan(0);
    tf.dispose([x, ...Object.values(grads)]);
    moe.dispose();
  });

  it('the router gradient matches central finite differences while the routing stays fixed', () => {
    const moe = makeMoE(2, 0.01, 0.75); // capacity 8 of 32 pairs: drops on the path too
    const x = tf.randomNormal([16, 6], 0, 1, 'float32', 16);
    const kernel = moe.router.trainableVariables[0]!;
    const loss = () => tf.tidy(() => {
      const r = moe.apply(x, { training: true });
      return tf.add(tf.sum(tf.square(r.output)), r.auxLosses.total) as tf.Scalar;
    });
    const { grads } = tf.variableGrads(loss, [kernel]);
    const analytic = grads[kernel.name]!.dataSync();
    const original = kernel.dataSync().slice();
    const h = 1e-3;
    for (const i of [0, 7, 13, 22]) {
      const at = (delta: number) => {
        const w = original.slice();
        w[i]! += delta;
        kernel.assign(tf.tensor(w, kernel.shape));
        const v = loss();
        const out = v.dataSync()[0]!;
        v.dispose();
        return out;
      };
      const numeric = (at(h) - at(-h)) / (2 * h);
      expect(Math.abs(numeric - analytic[i]!)).toBeLessThan(2e-2 * Math.max(1, Math.abs(analytic[i]!)));
    }
    kernel.assign(tf.tensor(original, kernel.shape));
    tf.dispose([x, ...Object.values(grads)]);
    moe.dispose();
  });

  it('selectTopK is off the tape: backprop through its indices does not fail', () => {
    const logits = tf.variable(tf.tensor2d([[1, 3, 2], [0, -1, 4]]));
    const { value, grads } = tf.variableGrads(() => {
      const idx = selectTopK(logits as unknown as tf.Tensor2D, 2);
      // best first; ties to the lower index: [[1, 2], [2, 0]]
      expect(idx.arraySync()).toEqual([[1, 2], [2, 0]]);
      const chosen = tf.sum(tf.mul(tf.cast(tf.oneHot(idx, 3), 'float32'), tf.expandDims(logits, 1)));
      return chosen as tf.Scalar;
    });
    expect(value.dataSync()[0]).toBe(3 + 2 + 4 + 0);
    expect(grads[logits.name]!.arraySync()).toEqual([[0, 1, 1], [1, 0, 1]]);
    tf.dispose([value, logits, ...Object.values(grads)]);
  });
});

describe('a router that selects with tf.topk on the tape', () => {
  it('still trains: plan constants are rebuilt off the tape, so TopK is never differentiated', () => {
    const kernel = tf.variable(tf.randomNormal([6, 4], 0, 0.5, 'float32', 17));
    const router = {
      numExperts: 4,
      k: 2,
      trainableVariables: [kernel],
      route: (gate: tf.Tensor2D) => {
        const logits = tf.matMul(gate, kernel) as tf.Tensor2D;
        const probs = tf.softmax(logits) as tf.Tensor2D;
        return { logits, probs, expertIndex: tf.topk(probs, 2).indices as tf.Tensor2D, auxLosses: { total: tf.scalar(0) } };
      },
      dispose: () => kernel.dispose(),
    };
    const moe = new MixtureOfExperts({ router, experts: new LinearExpertBank({ numExperts: 4, inputDim: 6, seed: 18 }) });
    const x = tf.randomNormal([8, 6], 0, 1, 'float32', 19);
    const { value, grads } = tf.variableGrads(() => tf.sum(tf.square(moe.apply(x, { training: true }).output)) as tf.Scalar, [kernel]);
    expect(norm(grads[kernel.name]!)).toBeGreaterThan(0);
    tf.dispose([value, x, ...Object.values(grads)]);
    moe.dispose();
  });
});
