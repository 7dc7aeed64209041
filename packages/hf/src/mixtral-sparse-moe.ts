// placeholder: replaced by the i19-hf-layout branch at merge
import * as tf from '@tensorflow/tfjs-core';
import { MoEArgumentError, type MixtureOfExperts } from '@moekit/core';

const variables = (moe: MixtureOfExperts) => new Map(moe.namedVariables());

/**
 * The HF `MixtralSparseMoeBlock` tensors of `moe` (a `GatedRouter(LinearGate, …)` over SwiGLU
 * `FeedForwardExperts` without biases), named `${prefix}gate.weight` `[E, D]` and
 * `${prefix}experts.${i}.w1.weight` `[H, D]`, `w2.weight` `[D, H]`, `w3.weight` `[H, D]`: transposed copies
 * the caller disposes.
 */
export function mixtralSparseMoeTensors(moe: MixtureOfExperts, prefix: string): Map<string, tf.Tensor> {
  const v = variables(moe);
  const [gate, w1, w3, w2] = ['router/gate/kernel', 'experts/w1', 'experts/v', 'experts/w2'].map((path) => v.get(path)!);
  const out = new Map<string, tf.Tensor>([[`${prefix}gate.weight`, tf.transpose(gate!)]]);
  for (let i = 0; i < moe.numExperts; i++) {
    const expert = (w: tf.Variable) => tf.tidy(() => tf.transpose(tf.squeeze(tf.slice(w, [i, 0, 0], [1, -1, -1]), [0])));
    out.set(`${prefix}experts.${i}.w1.weight`, expert(w1!));
    out.set(`${prefix}experts.${i}.w2.weight`, expert(w2!));
    out.set(`${prefix}experts.${i}.w3.weight`, expert(w3!));
  }
  return out;
}

/** Assigns the HF `MixtralSparseMoeBlock` tensors under `prefix` (see {@link mixtralSparseMoeTensors}) to `moe`'s variables. */
export function loadMixtralSparseMoe(moe: MixtureOfExperts, tensors: ReadonlyMap<string, tf.Tensor>, prefix: string): void {
  const v = variables(moe);
  const get = (name: string) => {
    const t = tensors.get(prefix + name);
    if (t === undefined) throw new MoEArgumentError('loadMixtralSparseMoe', 'tensors', `a tensor named '${prefix}${name}'`, 'none');
    return t;
  };
  tf.tidy(() => {
    v.get('router/gate/kernel')!.assign(tf.transpose(get('gate.weight')));
    const stack = (w: string) => tf.stack(Array.from({ length: moe.numExperts }, (_, i) => tf.transpose(get(`experts.${i}.${w}.weight`))));
    v.get('experts/w1')!.assign(stack('w1'));
    v.get('experts/v')!.assign(stack('w3'));
    v.get('experts/w2')!.assign(stack('w2'));
  });
}
