import type { AllToAllAlgorithm } from './all-to-all.js';
import { type Hardware, nodeCount, validateHardware } from './hardware.js';
import { dispatchBytes, expertParameters, type MoELayerShape, validateShape } from './layer-shapes.js';
import { type LayoutCost, layoutStepTime, type ParallelLayout, shardedCount, tutelDegrees } from './parallel-layout.js';

/** The ranked prediction for every layout, and the fastest. */
export interface LayoutRecommendation {
  /** The fastest layout's cost. */
  best: LayoutCost;
  /** Every candidate, fastest first. */
  ranked: LayoutCost[];
  /** `ranked[last].total / best.total`: what picking the worst layout would cost. */
  worstOverBest: number;
  /** Candidates left out because their expert parameters exceed `hw.memoryBytes`. */
  tooLarge: LayoutCost[];
  /** One sentence: the best layout and the term that decided it. */
  reason: string;
}

/**
 * Costs every layout `layoutStepTime` knows — data, expert (linear and 2DH all-to-all when the job spans
 * nodes) and each of Tutel's degrees `r` — and ranks them, the way Tutel's adaptive parallelism switching
 * picks `r` per step from the current capacity (Hwang et al. 2023, "adaptive parallelism switching"; Tutel picks by measuring, this
 * by predicting). Layouts whose expert parameters exceed `hw.memoryBytes` are left out of `ranked`.
 * @example
 * const { best, reason } = recommendLayout({ tokensPerGpu: 4096, modelDim: 2048, hiddenDim: 8192,
 *   numExperts: 16, topK: 2, capacityFactor: 1.25 }, ndmA100v4(64));
 */
export function recommendLayout(shape: MoELayerShape, hw: Hardware): LayoutRecommendation {
  const sh = validateShape(shape);
  validateHardware(hw);
  const algorithms: AllToAllAlgorithm[] = nodeCount(hw) > 1 ? ['linear', '2dh'] : ['linear'];
  const layouts: ParallelLayout[] = [{ kind: 'data' }];
  for (const a of algorithms) layouts.push({ kind: 'expert', allToAll: a });
  for (const r of tutelDegrees(hw.gpus, sh.numExperts)) {
    if (r === 0) layouts.push({ kind: 'tutel', r });
    else for (const a of algorithms) layouts.push({ kind: 'tutel', r, allToAll: a });
  }
  const all = layouts.map((l) => layoutStepTime(sh, hw, l)).sort((x, y) => x.total - y.total);
  const budget = hw.memoryBytes ?? Infinity;
  const fitting = all.filter((c) => c.parameterBytesPerGpu <= budget);
  // When nothing fits, rank everything rather than return nothing; `tooLarge` then lists every candidate.
  const ranked = fitting.length > 0 ? fitting : all;
  const tooLarge = all.filter((c) => c.parameterBytesPerGpu > budget);
  const best = ranked[0]!;
  const terms: [string, number][] = [['compute', best.compute], ['all-to-all', best.allToAll], ['parameter gather', best.parameterGather], ['gradient sync', best.gradientSync]];
  const [dominant] = terms.reduce((m, t) => (t[1] > m[1] ? t : m));
  const reason = `${best.label}: ${(best.total * 1e3).toFixed(2)} ms per step, ${dominant} the largest term; the worst (${ranked[ranked.length - 1]!.label}) is ${(ranked[ranked.length - 1]!.total / best.total).toFixed(2)}x slower`;
  return { best, ranked, tooLarge, worstOverBest: ranked[ranked.length - 1]!.total / best.total, reason };
}

/**
 * Tutel's own switch between its two r ≥ 1 extremes when `parallel_type='auto'`: model (tensor) parallel
 * iff `numel(dispatch buffer) · (s − 1) · 2 < numel(local expert parameters)` — `tutel/impls/moe_layer.py`
 * (commit 82af7aad, line 336). The local parameters are the GPU's stored `1/s` shard of its expert(s).
 * Reproduced as written; note it compares the extra token traffic of r = s with one shard, not with the
 * `(s − 1)` shards r = 1 would gather.
 */
export function tutelAutoUseModelParallel(shape: MoELayerShape, gpus: number): boolean {
  const sh = validateShape(shape);
  const s = shardedCount(gpus, sh.numExperts);
  const tokens = dispatchBytes(sh) / sh.bytesPerElement; // y.numel() = E·C·D = f·K·T·D
  const localParams = (Math.max(1, sh.numExperts / gpus) * expertParameters(sh)) / s;
  return tokens * (s - 1) * 2 < localParams;
}
