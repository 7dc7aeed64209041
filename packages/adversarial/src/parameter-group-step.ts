import * as tf from '@tensorflow/tfjs-core';

/**
 * One optimiser step over `variables` only: gradients of `f().loss` w.r.t. exactly those variables, so
 * no other variable changes. With `weightDecay` `λ > 0` each gradient becomes `g + λ·w` (coupled L2
 * decay, PyTorch SGD's `weight_decay`, which the AdvMoE reference code sets to 5e-4). Returns the loss
 * and `f().parts` read back as numbers.
 */
export function parameterGroupStep(variables: tf.Variable[], optimizer: tf.Optimizer, f: () => { loss: tf.Scalar; parts: tf.Scalar[] }, weightDecay = 0): { loss: number; parts: number[] } {
  let parts: tf.Tensor | undefined;
  const { value, grads } = tf.variableGrads(() => {
    const out = f();
    parts = tf.keep(tf.stack(out.parts)); // [P]
    return out.loss;
  }, variables);
  if (weightDecay > 0) {
    for (const v of variables) {
      const g = grads[v.name]!;
      grads[v.name] = tf.tidy(() => tf.add(g, tf.mul(weightDecay, v))); // g + λ·w
      g.dispose();
    }
  }
  optimizer.applyGradients(grads);
  const loss = value.dataSync()[0]!;
  const read = Array.from(parts!.dataSync());
  tf.dispose([value, parts!, ...Object.values(grads)]);
  return { loss, parts: read };
}
