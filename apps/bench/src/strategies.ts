/**
 * The ways the benchmark computes one MoE layer step, each as a closure returning the tensors it made:
 * moekit's MixtureOfExperts, the limit (the experts' matMuls over exactly k·T rows, nothing else), the
 * GShard one-hot dispatch, and a dense FFN of equal active compute.
 */
import * as tf from '@tensorflow/tfjs';
import { MixtureOfExperts, denseCombine, denseDispatch, expectTokenChoice, planRouting, type BufferLayout, type Router } from '@moekit/core';
import { LinearTopKRouter } from '@moekit/core/testing';
import { FfnExpertBank } from './ffn-expert-bank.js';

/** One benchmark size. */
export interface BenchConfig {
  /** Tokens `T`. */
  numTokens: number;
  /** Model width `D`. */
  dim: number;
  /** Expert hidden width `H`. */
  hidden: number;
  /** Experts `E`. */
  numExperts: number;
  /** Choices per token `K`. */
  k: number;
  /** Capacity factor (0 = dropless). */
  capacityFactor: number;
}

/**
 * A step to time: `forward` (inference: weights unchanged between calls, so backends may reuse packed
 * weights), or `train` (forward, backward to every weight and the input, and an SGD update, so every
 * step sees new weights, as in real training).
 */
export interface Strategy {
  /** Forward pass. */
  forward: () => tf.Tensor[];
  /** Forward and backward. */
  train: () => tf.Tensor[];
  /** Releases the strategy's weights. */
  dispose: () => void;
}

/** Useful FLOPs of the experts' forward pass: two matMuls over k·T rows. */
export function expertFlops(c: BenchConfig): number {
  return 4 * c.k * c.numTokens * c.dim * c.hidden;
}

const sgd = tf.train.sgd(1e-6);

function trainStep(loss: () => tf.Scalar, variables: tf.Variable[]): tf.Tensor[] {
  const { value, grads } = tf.variableGrads(loss, variables);
  sgd.applyGradients(grads);
  tf.dispose(Object.values(grads));
  return [value];
}

function routedModel(c: BenchConfig) {
  const x = tf.tidy(() => tf.variable(tf.randomNormal([c.numTokens, c.dim], 0, 1, 'float32', 1), true, undefined, 'float32'));
  const router = new LinearTopKRouter({ inputDim: c.dim, numExperts: c.numExperts, k: c.k, seed: 2 });
  const experts = new FfnExpertBank(c.numExperts, c.dim, c.hidden, 3);
  return { x, router, experts, variables: [x, ...router.trainableVariables, ...experts.trainableVariables] };
}

/**
 * An MoE's two benchmark steps on `x`: `forward` (evaluation: the output and the aux losses) and
 * `loss`, the training loss every strategy (and the torch peer) minimises: `mean(y²) + aux`.
 */
export function moeSteps(moe: MixtureOfExperts, x: tf.Tensor): { forward: () => tf.Tensor[]; loss: () => tf.Scalar } {
  const forward = () => {
    const r = moe.apply(x, { training: false });
    return [r.output, ...Object.values(r.auxLosses)];
  };
  const loss = () => tf.tidy(() => {
    const r = moe.apply(x, { training: true });
    return tf.add(tf.mean(tf.square(r.output)), r.auxLosses.total) as tf.Scalar;
  });
  return { forward, loss };
}

/** moekit's MixtureOfExperts with the given layout, over `LinearTopKRouter` or the router `makeRouter` builds. */
export function moekitStrategy(c: BenchConfig, layout: BufferLayout | 'auto', makeRouter?: (inputDim: number) => Router): Strategy {
  const model = routedModel(c);
  const { x, experts } = model;
  let router: Router = model.router;
  let variables = model.variables;
  if (makeRouter !== undefined) {
    router.dispose();
    router = makeRouter(c.dim);
    router.build?.(c.dim);
    variables = [x, ...router.trainableVariables, ...experts.trainableVariables];
  }
  const moe = new MixtureOfExperts({ router, experts, capacity: { train: c.capacityFactor, eval: c.capacityFactor }, layout, renormalize: c.k > 1 && makeRouter === undefined ? 'beforeDrop' : 'none' });
  const { forward, loss } = moeSteps(moe, x);
  return { forward, train: () => trainStep(loss, variables), dispose: () => { moe.dispose(); x.dispose(); } };
}

/** GShard's dispatch: dense one-hot `[T, E·C]` matrices multiplied in and out (the common port). */
export function oneHotStrategy(c: BenchConfig): Strategy {
  const { x, router, experts, variables } = routedModel(c);
  const layer = (training = true) => tf.tidy(() => {
    const routing = expectTokenChoice(router.route(x as tf.Tensor2D, { training }), 'oneHotStrategy');
    const plan = planRouting(routing, c.numExperts, { capacityFactor: c.capacityFactor, renormalize: c.k > 1 ? 'beforeDrop' : 'none' });
    const y = denseCombine(experts.apply(denseDispatch(x, plan), { training }), plan);
    return tf.add(tf.mean(tf.square(y)), routing.auxLosses.total) as tf.Scalar;
  });
  return { forward: () => [layer(false)], train: () => trainStep(() => layer(true), variables), dispose: () => { router.dispose(); experts.dispose(); x.dispose(); } };
}

/**
 * The limit: the experts' FFN matMuls over exactly k·T rows split evenly, as plain 2-D matMuls on
 * per-expert variables (no routing, no gather, no split, no padding): what any MoE layer must spend.
 */
export function limitStrategy(c: BenchConfig): Strategy {
  const rowsPerExpert = Math.ceil((c.k * c.numTokens) / c.numExperts);
  const experts = Array.from({ length: c.numExperts }, (_, e) => tf.tidy(() => ({
    rows: tf.variable(tf.randomNormal([rowsPerExpert, c.dim], 0, 1, 'float32', 10 + e)),
    w1: tf.variable(tf.randomNormal([c.dim, c.hidden], 0, 1 / Math.sqrt(c.dim), 'float32', 100 + e)),
    w2: tf.variable(tf.randomNormal([c.hidden, c.dim], 0, 1 / Math.sqrt(c.hidden), 'float32', 200 + e)),
  })));
  const variables = experts.flatMap((e) => [e.rows, e.w1, e.w2]);
  const layer = () => tf.tidy(() => tf.addN(experts.map((e) => tf.mean(tf.square(tf.matMul(tf.relu(tf.matMul(e.rows, e.w1)), e.w2))))) as tf.Scalar);
  return { forward: () => [layer()], train: () => trainStep(layer, variables), dispose: () => tf.dispose(variables) };
}

/** A dense FFN `D → K·H → D` over all T tokens: the same active compute per token as k experts. */
export function denseStrategy(c: BenchConfig): Strategy {
  const x = tf.tidy(() => tf.variable(tf.randomNormal([c.numTokens, c.dim], 0, 1, 'float32', 1)));
  const w1 = tf.tidy(() => tf.variable(tf.randomNormal([c.dim, c.k * c.hidden], 0, 0.05, 'float32', 5)));
  const w2 = tf.tidy(() => tf.variable(tf.randomNormal([c.k * c.hidden, c.dim], 0, 0.05, 'float32', 6)));
  const layer = () => tf.tidy(() => tf.mean(tf.square(tf.matMul(tf.relu(tf.matMul(x, w1)), w2))) as tf.Scalar);
  return { forward: () => [layer()], train: () => trainStep(layer, [x, w1, w2]), dispose: () => tf.dispose([x, w1, w2]) };
}
