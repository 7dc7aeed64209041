import * as tf from '@tensorflow/tfjs-core';

/**
 * One optimiser step over `variables` only: gradients of `f().loss` w.r.t. exactly those variables, so
 * no other variable changes. Returns the loss and `f().parts` read back as numbers.
 */
export function parameterGroupStep(variables: tf.Variable[], optimizer: tf.Optimizer, f: () => { loss: tf.Scalar; parts: tf.Scalar[] }): { loss: number; parts: number[] } {
  let parts: tf.Tensor | undefined;
  const { value, grads } = tf.variableGrads(() => {
    const out = f();
    parts = tf.keep(tf.stack(out.parts)); // [P]
    return out.loss;
  }, variables);
  optimizer.applyGradients(grads);
  const loss = value.dataSync()[0]!;
  const read = Array.from(parts!.dataSync());
  tf.dispose([value, parts!, ...Object.values(grads)]);
  return { loss, parts: read };
}
