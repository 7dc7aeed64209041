import type * as tf from '@tensorflow/tfjs-core';
import { checkOneOf, MoEArgumentError, type MixtureOfExperts, type Router } from '@moekit/core';
import { expertWeightNorms } from './expert-weight-norms.js';
import { randomScores } from './random-scores.js';
import { routerChangeScores } from './router-change-scores.js';
import { importanceScores, loadScores } from './routing-scores.js';

/**
 * How experts are ranked for pruning (a higher score keeps the expert; the lowest are pruned first):
 * `'routerChange'` — Chowdhury et al. 2024's signed change of the router weight vector's l2 norm
 * from the pretrained model (see {@link routerChangeScores}); the baselines `'random'`
 * ({@link randomScores}), `'load'` — tokens routed to the expert ({@link loadScores}), `'importance'` —
 * gate mass the expert takes ({@link importanceScores}), and `'weightNorm'` — the l2 norm of the
 * expert's own parameters ({@link expertWeightNorms}).
 */
export type PruningCriterion = 'routerChange' | 'random' | 'load' | 'importance' | 'weightNorm';

/** Every {@link PruningCriterion}, the paper's first. */
export const pruningCriteria: readonly PruningCriterion[] = ['routerChange', 'random', 'load', 'importance', 'weightNorm'];

/** What the criteria need besides the model: each criterion reads only its own field. */
export interface CriterionInputs {
  /** `'routerChange'`: the router before fine-tuning, the same shape as the model's (e.g. a `selectExperts` copy of all experts taken before fine-tuning). */
  pretrainedRouter?: Router;
  /** `'load'` and `'importance'`: a calibration batch of the MoE's input (tokens first). */
  calibration?: tf.Tensor;
  /** `'load'` and `'importance'`: the calibration batch's gate input, when it differs from `calibration`. Default: `calibration`. */
  calibrationGateInput?: tf.Tensor;
  /** `'random'`: the seed of the draw. Default 0. */
  seed?: number;
}

/**
 * The `[E]` scores of `criterion` for the experts of `moe` (higher = keep). Throws an
 * `MoEArgumentError` naming the missing input (`pretrainedRouter`, `calibration`) when the criterion
 * needs one. Nothing is changed.
 *
 * @example
 * ```ts
 * import { expertScores, expertsToKeep } from '@moekit/pruning';
 *
 * const scores = expertScores(moe, 'routerChange', { pretrainedRouter });
 * const kept = expertsToKeep(scores, 4);
 * ```
 */
export function expertScores(moe: MixtureOfExperts, criterion: PruningCriterion, inputs: CriterionInputs = {}): number[] {
  const where = 'expertScores';
  checkOneOf(where, 'criterion', criterion, pruningCriteria);
  const need = <T>(name: keyof CriterionInputs, value: T | undefined): T => {
    if (value === undefined) throw new MoEArgumentError(where, name, `a value (criterion '${criterion}' needs it)`, 'undefined');
    return value;
  };
  const gate = inputs.calibrationGateInput ? { gateInput: inputs.calibrationGateInput } : {};
  switch (criterion) {
    case 'routerChange':
      return routerChangeScores(need('pretrainedRouter', inputs.pretrainedRouter), moe.router);
    case 'random':
      return randomScores(moe.numExperts, inputs.seed ?? 0);
    case 'load':
      return loadScores(moe, need('calibration', inputs.calibration), gate);
    case 'importance':
      return importanceScores(moe, need('calibration', inputs.calibration), gate);
    case 'weightNorm':
      return expertWeightNorms(moe.experts);
  }
}
