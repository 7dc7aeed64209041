// The smallest complete expert bank, exactly as docs/architecture.md shows it ("How a new expert bank
// plugs in"): this file runs it; architecture-doc.test.ts checks that the page still shows it.
import { afterAll, expect, it } from 'vitest';
// doc:start
import * as tf from '@tensorflow/tfjs';
import { arg, Component, MixtureOfExperts, registerComponent, type ArgsTable, type ExpertBank } from '@moekit/core';
import { LinearTopKRouter } from '@moekit/core/testing';

interface LinearExpertsArgs { numExperts: number; seed?: number }

/** `E` linear experts `y = x · W_e`, `W_e` `[D, D]`, the width `D` taken from the first input. */
class LinearExperts extends Component<LinearExpertsArgs> implements ExpertBank {
  static readonly className = 'LinearExperts';
  static readonly argsTable: ArgsTable<LinearExpertsArgs> = { numExperts: arg.integer({ min: 1 }), seed: arg.number({ optional: true }) };
  get numExperts(): number { return this.config.numExperts; }
  build([width]: number[]): void {
    if (!this.hasVariable('w')) this.addVariable('w', tf.randomNormal([this.numExperts, width!, width!], 0, 1 / Math.sqrt(width!), 'float32', this.config.seed));
  }
  apply(dispatched: tf.Tensor): tf.Tensor { // [E, C, D] → [E, C, D], one batched matMul
    return tf.matMul(dispatched as tf.Tensor3D, this.variable('w', 'LinearExperts.apply') as tf.Tensor3D);
  }
}
registerComponent(LinearExperts, 'my-moe-experts');

const moe = new MixtureOfExperts({ router: new LinearTopKRouter({ inputDim: 16, numExperts: 4 }), experts: new LinearExperts({ numExperts: 4, seed: 1 }) });
const { output } = moe.apply(tf.randomNormal([32, 16]), { training: true });
console.log(output.shape, moe.namedVariables().map(([path, v]) => `${path} [${v.shape}]`)); // [32, 16] ['router/kernel [16,4]', 'experts/w [4,16,16]']
// doc:end

afterAll(() => moe.dispose());

it('runs: built from the input width, its weight named experts/w, released by dispose', () => {
  expect(output.shape).toEqual([32, 16]);
  expect(moe.namedVariables().map(([path, v]) => [path, v.shape])).toEqual([['router/kernel', [16, 4]], ['experts/w', [4, 16, 16]]]);
  const bank = new LinearExperts({ numExperts: 2 });
  bank.build([3]);
  bank.dispose();
  expect(() => bank.apply(tf.zeros([2, 1, 3]))).toThrow('LinearExperts.apply: this LinearExperts was disposed');
});
