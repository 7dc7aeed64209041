import type * as tf from '@tensorflow/tfjs-core';
import { MoEArgumentError } from '@moekit/core';

/** What one forward pass of an {@link AdvMoEModel} returns. The caller owns the tensors. */
export interface MoEClassifierOutput {
  /** `[B, classes]` class logits. */
  logits: tf.Tensor2D;
  /** `[B, E]` the router's scores (logits) of each image: what router attacks and the router loss read. */
  routerScores: tf.Tensor2D;
  /** `[B]` int32 expert each image was routed to: what router agreement and robustness compare. */
  expertIndex: tf.Tensor1D;
}

/**
 * The contract between a routed image classifier (an MoE-CNN) and this package: a forward pass that
 * exposes the router's scores and choice, and the model's variables split into the two parameter
 * groups of AdvMoE (Zhang et al. 2023, arXiv:2308.10110, Eq. 3): the router `θ_R` and the experts with
 * the backbone `θ_E`. The two groups must be disjoint and together hold every trainable variable.
 *
 * @example
 * ```ts
 * const model: AdvMoEModel = {
 *   forward: (x, training) => { const s = router.route(x); … return { logits, routerScores: s.scores, expertIndex: s.expertIndex }; },
 *   routerVariables: router.trainableVariables,
 *   expertVariables: [...conv1.trainableVariables, ...conv2.trainableVariables, head, headBias],
 * };
 * ```
 */
export interface AdvMoEModel {
  /** Images `[B, H, W, C]` → logits, router scores and expert choice; `training` switches train-time behaviour (e.g. batch norm). */
  forward(images: tf.Tensor, training: boolean): MoEClassifierOutput;
  /** The router's variables `θ_R` (gate network and scoring layer); empty for a dense model (one expert), which only {@link adversarialTrain} and robust evaluation accept. */
  readonly routerVariables: tf.Variable[];
  /** Every other trainable variable `θ_E`: the experts and the backbone (stem, head). */
  readonly expertVariables: tf.Variable[];
}

/**
 * Throws unless `model` has a forward pass and two disjoint variable groups, the experts' non-empty and
 * the router's non-empty unless `allowDense` (a dense model, one expert and no router, as the baseline
 * of standard adversarial training).
 */
export function checkAdvMoEModel(where: string, model: AdvMoEModel, allowDense = false): void {
  if (model === undefined || typeof model.forward !== 'function') throw new MoEArgumentError(where, 'model', 'an AdvMoEModel (forward, routerVariables, expertVariables)', String(model));
  for (const group of ['routerVariables', 'expertVariables'] as const) {
    const vars = model[group];
    const mayBeEmpty = allowDense && group === 'routerVariables';
    if (!Array.isArray(vars) || (vars.length === 0 && !mayBeEmpty)) throw new MoEArgumentError(where, `model.${group}`, mayBeEmpty ? 'an array of variables' : 'a non-empty array of variables', String(vars));
  }
  const routerIds = new Set(model.routerVariables.map((v) => v.id));
  const shared = model.expertVariables.find((v) => routerIds.has(v.id));
  if (shared !== undefined) throw new MoEArgumentError(where, 'model.expertVariables', 'no variable of model.routerVariables (disjoint parameter groups)', `variable '${shared.name}' in both`);
}
