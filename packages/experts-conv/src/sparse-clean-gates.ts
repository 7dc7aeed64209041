import * as tf from '@tensorflow/tfjs-core';
import { checkInteger, checkRank, chosenExpertsMask, selectTopK } from '@moekit/core';

/**
 * The sparse gates the utilisation constraints of Pavlitska et al. 2022 (arXiv:2204.10598, §3.3) act
 * on: each token's clean (noise-free) softmax value at its noise-free top-`k` experts, 0 elsewhere,
 * `G̃(x)_i = softmax(h(x))_i · [i ∈ TopK(h(x), k)]` for clean logits `h` `[T, E]`.
 *
 * Shazeer et al. 2017 (arXiv:1701.06538) Eq. 6 defines the importance `Σ_x G(x)_i` over the sparse gates
 * `G`, not over the full softmax: a router whose full softmax is near uniform while every token's top
 * choice is the same expert has a near-uniform full-softmax importance, but all its sparse mass on one
 * expert. Unlike `Softmax(KeepTopK(h, k))` (Eq. 3), which is the constant 1 at `k = 1`, `G̃` keeps the
 * softmax value un-renormalised, so it has a gradient at every `k`: lowering an over-used expert's
 * logit lowers its `G̃` and raises the others' softmax until the top-k changes. The selection is off the
 * gradient tape ({@link selectTopK}); ties go to the lower expert index. An expert excluded by −1e9
 * logits gets softmax 0, so it adds nothing even when the top-k reaches it.
 *
 * @param logits `[T, E]` clean gate logits (e.g. a router's `RouterOutput.logits`).
 * @param k experts kept per token, `1 ≤ k ≤ E`.
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { sparseCleanGates } from '@moekit/experts-conv';
 *
 * sparseCleanGates(tf.tensor2d([[Math.log(3), 0, 0]]), 1); // softmax [0.6, 0.2, 0.2] → [[0.6, 0, 0]]
 * ```
 */
export function sparseCleanGates(logits: tf.Tensor2D, k: number): tf.Tensor2D {
  const where = 'sparseCleanGates';
  checkRank(where, 'logits', logits, 2);
  const E = logits.shape[1];
  checkInteger(where, 'k', k, 1, E);
  return tf.tidy(() => {
    const keep = chosenExpertsMask(selectTopK(logits, k), E); // [T, E] 1 at the k chosen experts
    return tf.mul(tf.softmax(logits), keep) as tf.Tensor2D; // [T, E] G̃
  });
}
