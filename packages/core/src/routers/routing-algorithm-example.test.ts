// The smallest complete routing algorithm, exactly as docs/architecture.md shows it ("How a new
// routing algorithm plugs in"): this file runs it; architecture-doc.test.ts checks that the page still shows it.
import { afterAll, expect, it } from 'vitest';
// doc:start
import * as tf from '@tensorflow/tfjs';
import { arg, Component, GatedRouter, LinearGate, MixtureOfExperts, registerComponent, selectTopK, type ArgsTable, type RouteOptions, type RoutingAlgorithm, type TokenChoiceOutput } from '@moekit/core';
import { LinearExpertBank } from '@moekit/core/testing';

interface Top1Args { numExperts: number }

/** Switch Transformer top-1 (Fedus et al. 2021, Eqs. 1-2): the token goes to argmax p, weighted by p. */
class Top1 extends Component<Top1Args> implements RoutingAlgorithm {
  static readonly className = 'Top1';
  static readonly argsTable: ArgsTable<Top1Args> = { numExperts: arg.integer({ min: 1 }) };
  readonly k = 1;
  get numExperts(): number { return this.config.numExperts; }
  route(logits: tf.Tensor2D, _options: RouteOptions): TokenChoiceOutput {
    return tf.tidy(() => {
      const probs = tf.softmax(logits) as tf.Tensor2D; // [T, E]
      const expertIndex = selectTopK(probs, 1); // [T, 1] int32, off the tape
      return { logits: tf.clone(logits), probs, expertIndex, auxLosses: { total: tf.scalar(0) } };
    });
  }
}
registerComponent(Top1, 'my-moe-routers');

const router = new GatedRouter({ gate: new LinearGate({ numOutputs: 8 }), algorithm: new Top1({ numExperts: 8 }) });
const moe = new MixtureOfExperts({ router, experts: new LinearExpertBank({ numExperts: 8, inputDim: 16 }), capacity: { train: 1.25 } });
const { output, metrics } = moe.apply(tf.randomNormal([64, 16]), { training: true });
console.log(output.shape, metrics.load); // [64, 16] [...]
// doc:end

afterAll(() => moe.dispose());

it('runs: routes 64 tokens to 8 experts under capacity ceil(1.25 · 64 / 8) = 10', () => {
  expect(output.shape).toEqual([64, 16]);
  expect(metrics.capacity).toBe(10);
  expect(metrics.load.reduce((a, b) => a + b, 0) + metrics.droppedCount).toBe(64);
  expect(router.getConfig()).toMatchObject({ algorithm: { className: 'Top1', package: 'my-moe-routers', config: { numExperts: 8 } } });
  expect(() => new Top1({ numExperts: 0 })).toThrow("Top1: argument 'numExperts' expected an integer");
});
