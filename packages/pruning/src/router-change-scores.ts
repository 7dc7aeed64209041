import * as tf from '@tensorflow/tfjs-core';
import { MoEArgumentError, describeValue, requireCapability, type Router } from '@moekit/core';

/**
 * The pruning score of Chowdhury et al. 2024 ("A Provably Effective Method for Pruning Experts in
 * Fine-tuned Sparse Mixture-of-Experts", ICML 2024, https://arxiv.org/abs/2405.16646): for each expert
 * `s`, the change of the l2 norm of its router weight vector `w_s` (column `s` of the gate kernel)
 * from the pretrained to the fine-tuned model,
 *
 * `Δ_s = ‖w_s^(T)‖₂ − ‖w_s^(0)‖₂`   (`T` fine-tuned, `0` pretrained; the paper's pruning criterion),
 *
 * experts with the smallest `Δ_s` pruned first (a higher score means "keep").
 *
 * The change is **signed**, and it is the change of the norm, not the norm of the change
 * `‖w_s^(T) − w_s^(0)‖`. The paper's analysis shows that fine-tuning grows the routers of the experts
 * that learn the task-specific features (their norm increases along those features), while the routers
 * of task-irrelevant experts barely move; its method sorts the experts by this difference and keeps
 * the largest. A router whose norm shrank is therefore among the first pruned: an absolute value
 * would rank a large decrease as "important", which the theorem does not support.
 *
 * Both routers must have the `'gateWeights'` capability, with weights of the same shape `[Dg, E]`;
 * neither is changed.
 *
 * @example
 * ```ts
 * import { requireCapability } from '@moekit/core';
 * import { routerChangeScores } from '@moekit/pruning';
 *
 * const pretrained = requireCapability(moe.router, 'selectExperts', 'snapshot', 'router').selectExperts(allExperts); // before fine-tuning
 * // … fine-tune moe …
 * const scores = routerChangeScores(pretrained, moe.router); // [E], prune the smallest first
 * ```
 */
export function routerChangeScores(pretrainedRouter: Router, finetunedRouter: Router): number[] {
  const where = 'routerChangeScores';
  const before = requireCapability(pretrainedRouter, 'gateWeights', where, 'pretrainedRouter').gateWeights(); // [Dg, E]
  let after: tf.Tensor2D;
  try {
    after = requireCapability(finetunedRouter, 'gateWeights', where, 'finetunedRouter').gateWeights(); // [Dg, E]
  } catch (error) {
    before.dispose();
    throw error;
  }
  try {
    if (before.shape[0] !== after.shape[0] || before.shape[1] !== after.shape[1]) {
      throw new MoEArgumentError(where, 'finetunedRouter', `gate weights of the pretrained router's shape ${describeValue(before.shape)} [Dg, E]`, `shape ${describeValue(after.shape)}`);
    }
    const delta = tf.tidy(() => tf.sub(tf.norm(after, 'euclidean', 0), tf.norm(before, 'euclidean', 0))); // [E] ‖w_s^(T)‖ − ‖w_s^(0)‖
    const scores = Array.from(delta.dataSync());
    delta.dispose();
    return scores;
  } finally {
    tf.dispose([before, after]);
  }
}
