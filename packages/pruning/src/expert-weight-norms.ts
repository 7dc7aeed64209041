import * as tf from '@tensorflow/tfjs-core';
import { MoEArgumentError, describeValue, type ExpertBank } from '@moekit/core';

/**
 * The l2 norm of each expert's parameters, `‖θ_e‖₂ = √(Σ_v Σ_i v[e, i]²)` over every trainable variable
 * `v` of a batched bank (each holding the experts along its first axis, `[E, ...]`): the "smallest expert
 * weight norm" baseline (magnitude pruning at the granularity of whole experts). Returns `[E]` numbers;
 * the bank is not changed.
 */
export function expertWeightNorms(experts: ExpertBank): number[] {
  const where = 'expertWeightNorms';
  const E = experts.numExperts;
  const variables = experts.trainableVariables;
  if (variables.length === 0) throw new MoEArgumentError(where, 'experts', 'a bank with trainable variables', 'a bank without any');
  for (const v of variables) {
    if (v.shape[0] !== E) {
      throw new MoEArgumentError(where, 'experts', `a batched bank: every variable [E = ${E}, ...]`, `variable '${v.name}' of shape ${describeValue(v.shape)}`);
    }
  }
  const norms = tf.tidy(() => {
    const squares = variables.map((v) => tf.sum(tf.square(tf.reshape(v, [E, -1])), 1)); // each [E]
    return tf.sqrt(tf.addN(squares)); // [E] ‖θ_e‖₂
  });
  const result = Array.from(norms.dataSync());
  norms.dispose();
  return result;
}
