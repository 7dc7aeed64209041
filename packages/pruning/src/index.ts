/**
 * `@moekit/pruning`: expert pruning of a fine-tuned MoE by the change of its router weight vectors'
 * l2 norm (Chowdhury et al. 2024, https://arxiv.org/abs/2405.16646), with the random, load,
 * importance and expert-weight-norm baselines, a pruned copy of any `MixtureOfExperts` or
 * `MoELayer`, and a report of accuracy and parameters per pruning ratio.
 *
 * @packageDocumentation
 */
export { routerChangeScores } from './router-change-scores.js';
export { expertWeightNorms } from './expert-weight-norms.js';
export { loadScores, importanceScores, type RoutingScoresOptions } from './routing-scores.js';
export { randomScores } from './random-scores.js';
export { expertScores, pruningCriteria, type PruningCriterion, type CriterionInputs } from './pruning-criterion.js';
export { expertsToKeep, keptExpertCount, type PruningAmount } from './experts-to-keep.js';
export { keepExperts } from './keep-experts.js';
export { pruneExperts, type PruneExpertsArgs, type PruneExpertsResult } from './prune-experts.js';
export { pruningReport, countParameters, type PruningReportArgs, type PruningReportRow } from './pruning-report.js';
export { formatPruningReport } from './format-pruning-report.js';
