import { MixtureOfExperts, MoEArgumentError } from '@moekit/core';
import { MoELayer } from '@moekit/layers';
import { expertsToKeep, keptExpertCount, type PruningAmount } from './experts-to-keep.js';
import { keepExperts } from './keep-experts.js';
import { expertScores, type CriterionInputs, type PruningCriterion } from './pruning-criterion.js';

/** Options of {@link pruneExperts}: how many experts survive, and which. */
export interface PruneExpertsArgs extends PruningAmount, CriterionInputs {
  /** How experts are ranked. Default `'routerChange'` (Chowdhury et al. 2024; needs `pretrainedRouter`). */
  criterion?: PruningCriterion;
  /** Precomputed `[E]` scores (higher = keep), used instead of `criterion`. */
  scores?: number[];
}

/** What {@link pruneExperts} returns. */
export interface PruneExpertsResult<M extends MixtureOfExperts | MoELayer> {
  /** The new, smaller model (the caller disposes it). */
  pruned: M;
  /** The original indices of the surviving experts, ascending: expert `kept[i]` is now expert `i`. */
  kept: number[];
  /** The `[E]` scores the experts were ranked by. */
  scores: number[];
}

/**
 * Prunes the experts of a fine-tuned MoE: scores them by `criterion` (by default the change of their
 * router weight vectors' l2 norm, Chowdhury et al. 2024, see {@link routerChangeScores}), keeps the
 * `keep` highest (or all but `⌊ratio · E⌋`), and returns a new, smaller model built by
 * {@link keepExperts}: the kept experts' weights copied, router columns re-indexed, capacity recomputed
 * from `E'`. The original model is untouched. Works for a {@link MixtureOfExperts} or a {@link MoELayer}
 * over any router and batched expert bank with the `'selectExperts'` capability.
 *
 * @example
 * ```ts
 * import { requireCapability } from '@moekit/core';
 * import { pruneExperts } from '@moekit/pruning';
 *
 * const pretrained = requireCapability(moe.router, 'selectExperts', 'snapshot', 'router').selectExperts([...Array(moe.numExperts).keys()]); // before fine-tuning
 * // … fine-tune …
 * const { pruned, kept } = pruneExperts(moe, { ratio: 0.5, criterion: 'routerChange', pretrainedRouter: pretrained });
 * ```
 */
export function pruneExperts<M extends MixtureOfExperts | MoELayer>(model: M, args: PruneExpertsArgs): PruneExpertsResult<M> {
  const where = 'pruneExperts';
  const moe = model instanceof MoELayer ? model.moe : model;
  if (!(moe instanceof MixtureOfExperts)) throw new MoEArgumentError(where, 'model', 'a MixtureOfExperts or a MoELayer', String(model));
  const { keep, ratio, criterion, scores: given, ...inputs } = args ?? {};
  const count = keptExpertCount(moe.numExperts, { ...(keep !== undefined ? { keep } : {}), ...(ratio !== undefined ? { ratio } : {}) }, where);
  let scores: number[];
  if (given !== undefined) {
    if (!Array.isArray(given) || given.length !== moe.numExperts) {
      throw new MoEArgumentError(where, 'scores', `${moe.numExperts} scores (one per expert)`, Array.isArray(given) ? `${given.length} scores` : String(given));
    }
    scores = given;
  } else {
    scores = expertScores(moe, criterion ?? 'routerChange', inputs);
  }
  const kept = expertsToKeep(scores, count);
  return { pruned: keepExperts(model, kept) as M, kept, scores };
}
