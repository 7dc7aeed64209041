import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { combine } from '../dispatch/combine.js';
import { dispatch } from '../dispatch/dispatch.js';
import { disposeRoutingPlan, type SparseRoutingPlan } from '../contracts/routing-plan.js';
import { routingMetrics } from '../metrics/routing-metrics.js';
import { MixtureOfExperts } from '../mixture-of-experts.js';
import { expectNoLeakedTensors, expectTensorsClose, LinearExpertBank } from '../testing/index.js';

// An expert-major plan (expert choice): E = 2 experts each take C = 2 of T = 4 tokens.
// Expert 0 takes tokens [2, 0] with weights [0.5, 0.25]; expert 1 takes [2, 1] with [0.1, 0.9].
// Token 2 is taken twice, tokens 0 and 1 once, token 3 by no expert.
function makePlan(weight?: tf.Tensor2D): SparseRoutingPlan {
  return {
    numExperts: 2,
    capacity: 2,
    numTokens: 4,
    expertIndex: tf.tensor2d([[0, 0], [1, 1]], undefined, 'int32'),
    slot: tf.tensor2d([[0, 1], [0, 1]], undefined, 'int32'),
    token: tf.tensor2d([[2, 0], [2, 1]], undefined, 'int32'),
    combineWeight: weight ?? tf.tensor2d([[0.5, 0.25], [0.1, 0.9]]),
    load: tf.tensor1d([2, 2], 'int32'),
    needed: tf.tensor1d([2, 2], 'int32'),
    dropped: tf.scalar(0, 'int32'),
  };
}
const tokens = () => tf.tensor2d([[1, 2], [3, 4], [5, 6], [7, 8]]);
const expertOut = () => tf.tensor3d([[[1, 0], [0, 1]], [[2, 2], [3, 3]]]); // [E, C, 2]

describe('expert-major plans (a token per pair)', () => {
  it('dispatch copies each chosen token into its expert slot (padded and grouped)', () => {
    const plan = makePlan();
    const x = tokens();
    // e0 ← [x2, x0], e1 ← [x2, x1]
    const padded = dispatch(x, plan);
    expectTensorsClose(padded, [[[5, 6], [1, 2]], [[5, 6], [3, 4]]], { atol: 0 });
    const grouped = dispatch(x, plan, 'grouped');
    expectTensorsClose(grouped, [[5, 6], [1, 2], [5, 6], [3, 4]], { atol: 0 });
    tf.dispose([padded, grouped, x]);
    disposeRoutingPlan(plan);
  });

  it('combine sums each token over the experts that took it; an untaken token gets 0', () => {
    const plan = makePlan();
    const out = expertOut();
    // y0 = 0.25·[0, 1] = [0, 0.25]; y1 = 0.9·[3, 3] = [2.7, 2.7];
    // y2 = 0.5·[1, 0] + 0.1·[2, 2] = [0.7, 0.2]; y3 = [0, 0]
    const y = combine(out, plan);
    expectTensorsClose(y, [[0, 0.25], [2.7, 2.7], [0.7, 0.2], [0, 0]]);
    tf.dispose([y, out]);
    disposeRoutingPlan(plan);
  });

  it('gradients equal autodiff of the plain gather → multiply → segment-sum', () => {
    const plan = makePlan();
    const upstream = tf.tensor2d([[1, -2], [3, 0.5], [-1, 1], [2, 2]]); // ∂L/∂y
    const rows = tf.tensor1d([2, 0, 2, 1], 'int32'); // token of each flattened pair
    const fused = (o: tf.Tensor, w: tf.Tensor) => tf.sum(tf.mul(combine(o, { ...plan, combineWeight: w as tf.Tensor2D }), upstream));
    const reference = (o: tf.Tensor, w: tf.Tensor) =>
      tf.sum(tf.mul(tf.unsortedSegmentSum(tf.mul(tf.reshape(o, [4, 2]), tf.reshape(w, [4, 1])), rows, 4), upstream));
    const [out, weight] = [expertOut(), tf.tensor2d([[0.5, 0.25], [0.1, 0.9]])];
    const got = tf.grads(fused)([out, weight]);
    const want = tf.grads(reference)([out, weight]);
    // ∂L/∂w[e, c] = ⟨dy[token], out[e, c]⟩: w[0, 0] = ⟨[−1, 1], [1, 0]⟩ = −1, w[0, 1] = ⟨[1, −2], [0, 1]⟩ = −2,
    // w[1, 0] = ⟨[−1, 1], [2, 2]⟩ = 0, w[1, 1] = ⟨[3, 0.5], [3, 3]⟩ = 10.5
    expectTensorsClose(got[1]!, [[-1, -2], [0, 10.5]]);
    expectTensorsClose(got[0]!, want[0]!);
    expectTensorsClose(got[1]!, want[1]!);
    // ∂L/∂x through dispatch: each token's gradient is the sum over its slots
    const dx = tf.grad((x: tf.Tensor) => tf.sum(tf.mul(dispatch(x, plan), tf.ones([2, 2, 2]))))(tokens());
    expectTensorsClose(dx, [[1, 1], [1, 1], [2, 2], [0, 0]]); // token 2 sits in two slots, token 3 in none
    tf.dispose([...got, ...want, upstream, rows, out, weight, dx]);
    disposeRoutingPlan(plan);
  });

  it('metrics count experts per token and the tokens no expert took', () => {
    const plan = makePlan();
    const probs = tf.tensor2d([[0.5, 0.5], [0.5, 0.5], [0.5, 0.5], [0.5, 0.5]]);
    const m = routingMetrics(plan, probs);
    expect(m.load).toEqual([2, 2]);
    expect(m.expertsPerToken).toBe(1); // 4 pairs over 4 tokens
    expect(m.tokensWithoutExpert).toBe(0.25); // token 3
    expect(m.droppedCount).toBe(0);
    tf.dispose(probs);
    disposeRoutingPlan(plan);
  });

  it('rejects a plan whose token count disagrees with the input, and leaks nothing', async () => {
    const plan = makePlan();
    const three = tf.tensor2d([[1, 2], [3, 4], [5, 6]]);
    expect(() => dispatch(three, plan)).toThrow("dispatch: argument 'plan.numTokens' expected 3 (T from the input's axis 0), got 4");
    const x = tokens();
    const out = expertOut();
    await expectNoLeakedTensors(() => tf.dispose([dispatch(x, plan), combine(out, plan), dispatch(x, plan, 'grouped')]));
    tf.dispose([three, x, out]);
    disposeRoutingPlan(plan);
  });
});

describe('an expert-major plan inside MixtureOfExperts', () => {
  it('trains: the plan is released after the forward pass and backward still has what it saved', () => {
    // a router that returns the expert-major plan above for any 4 tokens, its weights from a trainable gate
    const gate = tf.variable(tf.tensor2d([[0.5, 0.25], [0.1, 0.9]]));
    const router = {
      numExperts: 2,
      k: 1,
      trainableVariables: [gate],
      route: () => ({
        logits: tf.zeros([4, 2]) as tf.Tensor2D,
        probs: tf.fill([4, 2], 0.5) as tf.Tensor2D,
        plan: makePlan(tf.mul(gate, 1) as tf.Tensor2D), // combine weights on the tape
        auxLosses: { total: tf.scalar(0) },
      }),
      dispose: () => gate.dispose(),
    };
    const moe = new MixtureOfExperts({ router, experts: LinearExpertBank.identity(2, 2), layout: 'padded' });
    const x = tokens();
    const { value, grads } = tf.variableGrads(() => tf.sum(moe.apply(x, { training: true }).output) as tf.Scalar, [gate]);
    // y = Σ_p w[p] · x[token(p)]: ∂/∂w[e, c] = sum of the token's features = [[11, 3], [11, 7]]
    expectTensorsClose(grads[gate.name]!, [[11, 3], [11, 7]]);
    // value = 0.5·11 + 0.25·3 + 0.1·11 + 0.9·7 = 5.5 + 0.75 + 1.1 + 6.3 = 13.65
    expectTensorsClose(value, 13.65);
    tf.dispose([value, x, ...Object.values(grads)]);
    moe.dispose();
  });
});
