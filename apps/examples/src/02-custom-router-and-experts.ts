/**
 * 02 · a custom router and expert bank: a router and an expert bank written against core's contracts
 * (`Router`, `ExpertBank`), plugged into `MixtureOfExperts` like the packaged ones.
 *
 * The router is a "sign router": a learned projection `x·w` and expert `i` is scored by how far the
 * projection is from the centre `c_i` (`logit_i = −(x·w − c_i)²`), a 1-D routing in the spirit of
 * BASE-style assignment; the bank holds one scalar gain and bias per expert (`y = a_e · x + b_e`).
 */
import * as tf from '@tensorflow/tfjs';
import { MixtureOfExperts, selectTopK, type ExpertApplyOptions, type ExpertBank, type Router, type RouteOptions, type TokenChoiceOutput } from '@moekit/core';

/** Routes by the distance of a learned 1-D projection to fixed centres −1 … 1. */
export class ProjectionRouter implements Router {
  readonly k = 1;
  readonly w: tf.Variable; // [D, 1]
  private readonly centres: tf.Tensor2D; // [1, E]
  constructor(readonly numExperts: number, inputDim: number) {
    this.w = tf.tidy(() => tf.variable(tf.randomNormal([inputDim, 1], 0, 1 / Math.sqrt(inputDim), 'float32', 1)));
    this.centres = tf.tidy(() => tf.reshape(tf.linspace(-1, 1, numExperts), [1, numExperts]) as tf.Tensor2D);
  }
  get trainableVariables(): tf.Variable[] {
    return [this.w];
  }
  route(gateInput: tf.Tensor2D, _options: RouteOptions): TokenChoiceOutput {
    return tf.tidy(() => {
      const z = tf.matMul(gateInput, this.w); // [T, 1]
      const logits = tf.neg(tf.square(tf.sub(z, this.centres))) as tf.Tensor2D; // [T, E]
      const probs = tf.softmax(logits) as tf.Tensor2D; // [T, E]
      const expertIndex = selectTopK(probs, 1); // [T, 1], off the tape: TopK has no gradient
      return { logits, probs, expertIndex, auxLosses: { total: tf.scalar(0) } };
    });
  }
  dispose(): void {
    tf.dispose([this.w, this.centres]);
  }
}

/** One gain and bias per expert: `[E, C, D]` → `[E, C, D]`. */
export class AffineExperts implements ExpertBank {
  readonly gain: tf.Variable; // [E, 1, 1]
  readonly bias: tf.Variable; // [E, 1, 1]
  constructor(readonly numExperts: number) {
    this.gain = tf.tidy(() => tf.variable(tf.ones([numExperts, 1, 1])));
    this.bias = tf.tidy(() => tf.variable(tf.zeros([numExperts, 1, 1])));
  }
  get trainableVariables(): tf.Variable[] {
    return [this.gain, this.bias];
  }
  apply(dispatched: tf.Tensor, _options: ExpertApplyOptions): tf.Tensor {
    return tf.tidy(() => tf.add(tf.mul(dispatched, this.gain), this.bias));
  }
  dispose(): void {
    tf.dispose([this.gain, this.bias]);
  }
}

/** Trains the custom MoE to fit `y = 2x` on inputs with x₀ < 0 and `y = −x` elsewhere. */
export async function run(options: { quick: boolean }): Promise<void> {
  const D = 4;
  const moe = new MixtureOfExperts({ router: new ProjectionRouter(2, D), experts: new AffineExperts(2), capacity: { train: 0, eval: 0 } });
  const { x, y } = tf.tidy(() => {
    const x = tf.randomNormal([200, D], 0, 1, 'float32', 2) as tf.Tensor2D;
    const negative = tf.less(tf.slice(x, [0, 0], [-1, 1]), 0); // [T, 1]
    return { x, y: tf.where(negative, tf.mul(x, 2), tf.neg(x)) };
  });
  const optimizer = tf.train.adam(0.05);
  const steps = options.quick ? 10 : 300;
  let first = 0;
  let last = 0;
  for (let step = 0; step < steps; step++) {
    const cost = optimizer.minimize(() => {
      const { output, auxLosses } = moe.apply(x, { training: true });
      tf.dispose(auxLosses.total);
      return tf.losses.meanSquaredError(y, output) as tf.Scalar;
    }, true, moe.trainableVariables);
    last = cost!.dataSync()[0]!;
    if (step === 0) first = last;
    cost!.dispose();
  }
  const experts = moe.experts as AffineExperts;
  console.log(`custom router + bank: mse ${first.toFixed(4)} -> ${last.toFixed(4)} in ${steps} steps; gains [${Array.from(experts.gain.dataSync()).map((g) => g.toFixed(2)).join(', ')}] (targets 2 and -1 in some order), load [${moe.lastMetrics!.load.join(', ')}]`);
  tf.dispose([x, y]);
  optimizer.dispose();
  moe.dispose();
}
