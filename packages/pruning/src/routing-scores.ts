import * as tf from '@tensorflow/tfjs-core';
import { checkMinRank, type MixtureOfExperts, type RoutingMetrics } from '@moekit/core';

/** Options of {@link loadScores} and {@link importanceScores}. */
export interface RoutingScoresOptions {
  /** What the router scores when it differs from the calibration input (as in `MixtureOfExperts.apply`). Default: the input itself. */
  gateInput?: tf.Tensor;
}

/** Routes `calibration` through `moe` in evaluation mode and returns its routing metrics (nothing to dispose). */
function evalRouting(where: string, moe: MixtureOfExperts, calibration: tf.Tensor, options: RoutingScoresOptions): RoutingMetrics {
  checkMinRank(where, 'calibration', calibration, 2);
  const { output, auxLosses, metrics } = moe.apply(calibration, { training: false, ...(options.gateInput ? { gateInput: options.gateInput } : {}) });
  tf.dispose([output, ...Object.values(auxLosses)]);
  return metrics;
}

/**
 * The "lowest load" baseline: for each expert, the number of (token, choice) pairs of the calibration
 * input whose top-k choices name it, counted before capacity drops (`RoutingMetrics.needed`), in
 * evaluation mode. Returns `[E]` counts; a rarely chosen expert scores low and is pruned first.
 */
export function loadScores(moe: MixtureOfExperts, calibration: tf.Tensor, options: RoutingScoresOptions = {}): number[] {
  return evalRouting('loadScores', moe, calibration, options).needed;
}

/**
 * The "lowest importance" baseline: for each expert, its importance over the calibration input,
 * `Importance(X)_e = Σ_{x∈X} G(x)_e` (Shazeer et al. 2017, Eq. 6) with `G` the router's `probs`, in
 * evaluation mode. Returns `[E]` sums; an expert that takes little gate mass is pruned first.
 */
export function importanceScores(moe: MixtureOfExperts, calibration: tf.Tensor, options: RoutingScoresOptions = {}): number[] {
  return evalRouting('importanceScores', moe, calibration, options).importance;
}
