import { MixtureOfExperts, MoEArgumentError, describeValue } from '@moekit/core';
import { MoELayer } from '@moekit/layers';
import { expertsToKeep, keptExpertCount } from './experts-to-keep.js';
import { keepExperts } from './keep-experts.js';
import { expertScores, pruningCriteria, type CriterionInputs, type PruningCriterion } from './pruning-criterion.js';

/** Configuration of {@link pruningReport}. */
export interface PruningReportArgs<M extends MixtureOfExperts | MoELayer> extends CriterionInputs {
  /** The fine-tuned model to prune (not changed). */
  model: M;
  /** Pruning ratios, each in `[0, 1)` (0 = the unpruned model, evaluated as a copy). */
  ratios: number[];
  /** Criteria to compare. Default: every {@link PruningCriterion}. */
  criteria?: PruningCriterion[];
  /** Measures a pruned copy (e.g. test accuracy of the model rebuilt around it); the copy is disposed afterwards. */
  evaluate: (pruned: M) => number | Promise<number>;
  /** Parameters outside the MoE (embedding, head, …), added to every row's count. Default 0. */
  otherParameters?: number;
}

/** One row of a {@link pruningReport}: one criterion at one ratio. */
export interface PruningReportRow {
  /** The criterion that chose the surviving experts. */
  criterion: PruningCriterion;
  /** The pruning ratio asked for. */
  ratio: number;
  /** Experts that survived `E'`. */
  keptExperts: number;
  /** The original indices of the surviving experts. */
  kept: number[];
  /** What `evaluate` returned for the pruned model (accuracy). */
  accuracy: number;
  /** Trainable parameters of the pruned MoE (router, experts, shared branch) plus `otherParameters`. */
  parameters: number;
}

/** Trainable parameters of an MoE: router, experts and shared branch. */
export function countParameters(model: MixtureOfExperts | MoELayer): number {
  const moe = model instanceof MoELayer ? model.moe : model;
  return moe.trainableVariables.reduce((n, v) => n + v.size, 0);
}

/**
 * For each criterion and each pruning ratio, prunes a copy of `model` (see {@link keepExperts}),
 * measures it with `evaluate` and counts its parameters: the comparison of Chowdhury et al. 2024's
 * router-change criterion with the baselines. Each criterion's scores are computed once, on the
 * unpruned model; rows come criterion-major, in the order given. Every pruned copy is disposed after
 * its evaluation; `model` is not changed.
 *
 * @example
 * ```ts
 * import { formatPruningReport, pruningReport } from '@moekit/pruning';
 *
 * const rows = await pruningReport({ model: moe, ratios: [0, 0.25, 0.5, 0.75], pretrainedRouter, calibration: xs,
 *   evaluate: (pruned) => accuracy(pruned) });
 * console.log(formatPruningReport(rows));
 * ```
 */
export async function pruningReport<M extends MixtureOfExperts | MoELayer>(args: PruningReportArgs<M>): Promise<PruningReportRow[]> {
  const where = 'pruningReport';
  const { model, ratios, criteria = [...pruningCriteria], evaluate, otherParameters = 0, ...inputs } = args;
  const moe = model instanceof MoELayer ? model.moe : model;
  if (!(moe instanceof MixtureOfExperts)) throw new MoEArgumentError(where, 'model', 'a MixtureOfExperts or a MoELayer', String(model));
  if (typeof evaluate !== 'function') throw new MoEArgumentError(where, 'evaluate', 'a function (pruned model) => number', describeValue(evaluate));
  if (!Array.isArray(ratios) || ratios.length === 0) throw new MoEArgumentError(where, 'ratios', 'a non-empty array of ratios in [0, 1)', describeValue(ratios));
  const counts = ratios.map((ratio) => keptExpertCount(moe.numExperts, { ratio }, where)); // validates every ratio first
  const rows: PruningReportRow[] = [];
  for (const criterion of criteria) {
    const scores = expertScores(moe, criterion, inputs);
    for (const [i, ratio] of ratios.entries()) {
      const kept = expertsToKeep(scores, counts[i]!);
      const pruned = keepExperts(model, kept) as M;
      try {
        const accuracy = await evaluate(pruned);
        rows.push({ criterion, ratio, keptExperts: kept.length, kept, accuracy, parameters: countParameters(pruned) + otherParameters });
      } finally {
        pruned.dispose();
      }
    }
  }
  return rows;
}
