import { type AllToAllAlgorithm, allToAllTime } from './all-to-all.js';
import { CostModelArgumentError } from './cost-model-error.js';
import { type Hardware, validateHardware } from './hardware.js';
import { dispatchBytes, expertParameters, layerFlopsPerGpu, type MoELayerShape, validateShape } from './layer-shapes.js';
import { ringCollectiveTime } from './ring-collectives.js';

/**
 * How one MoE layer is laid out on the GPUs.
 * - `data`: every GPU holds all E experts and runs its own tokens; training all-reduces their gradients.
 * - `expert`: classic expert parallelism (GShard, DeepSpeed-MoE, Fairseq): `E/W` experts per GPU, or,
 *   when W > E, each expert replicated on `W/E` GPUs (expert + data parallel, gradients all-reduced
 *   among the replicas); tokens travel by all-to-all inside each group of `min(W, E)` GPUs.
 * - `tutel`: Tutel's adaptive parallelism (Hwang et al. 2023, "adaptive parallelism switching"; `adaptive_r` in
 *   `tutel/impls/moe_layer.py`), parameters stored ZeRO-sharded (each GPU keeps `1/W` of all experts),
 *   degree `r` ∈ {0} ∪ divisors of `s = max(1, W/E)`:
 *   r = 0 gathers every expert on every GPU (data parallel, no all-to-all); r ≥ 1 all-to-alls the tokens
 *   across all W GPUs, repeated `r` times, and gathers each expert's parameters inside groups of `s/r`
 *   GPUs so each GPU holds a `1/r` slice of the hidden width (r = 1: expert + data parallel; r = s: expert
 *   + tensor parallel, i.e. DeepSpeed-MoE's tensor-sliced experts).
 */
export type ParallelLayout =
  | {
      /** Every GPU holds every expert. */
      kind: 'data';
    }
  | {
      /** Classic expert parallelism. */
      kind: 'expert';
      /** How the tokens' all-to-all runs; default `'linear'`. */
      allToAll?: AllToAllAlgorithm;
    }
  | {
      /** Tutel's adaptive parallelism. */
      kind: 'tutel';
      /** Tutel's degree: 0, or a divisor of `max(1, W/E)`. */
      r: number;
      /** How the tokens' all-to-all runs; default `'linear'`. */
      allToAll?: AllToAllAlgorithm;
    };

/** The predicted step time of one MoE layer under one layout, term by term (seconds, bytes per GPU). */
export interface LayoutCost {
  /** The layout costed. */
  layout: ParallelLayout;
  /** A short name, e.g. `tutel r=2 (2dh)`. */
  label: string;
  /** Gate and expert matmuls: `layerFlopsPerGpu / (peakFlops · flopsEfficiency)`. */
  compute: number;
  /** All token all-to-alls of the step (2 forward, 2 more in training). */
  allToAll: number;
  /** Parameter all-gathers (Tutel's ZeRO gather; with their reduce-scatter of gradients in training). */
  parameterGather: number;
  /** Gradient all-reduce among replicas (training only). */
  gradientSync: number;
  /** `compute + allToAll + parameterGather + gradientSync`; no overlap is modelled. */
  total: number;
  /** Bytes one GPU sends per step in all-to-alls. */
  allToAllBytesPerGpu: number;
  /** Expert parameter bytes one GPU holds while computing (gathered, not stored). */
  parameterBytesPerGpu: number;
}

/** Tutel's valid degrees for `W` GPUs and `E` experts: `[0, …divisors of s = max(1, W/E)]` (`valid_rs` in `moe_layer.py`). */
export function tutelDegrees(gpus: number, numExperts: number): number[] {
  const s = shardedCount(gpus, numExperts);
  const rs = [0];
  for (let i = 1; i <= s; i++) if (s % i === 0) rs.push(i);
  return rs;
}

/** `s = W/E` when there are more GPUs than experts (each expert sharded over `s` GPUs), else 1 (`sharded_count`). */
export function shardedCount(gpus: number, numExperts: number): number {
  return numExperts < gpus ? Math.floor(gpus / numExperts) : 1;
}

/** A layout's short name. */
export function layoutLabel(layout: ParallelLayout): string {
  if (layout.kind === 'data') return 'data';
  const a2a = layout.allToAll ?? 'linear';
  return layout.kind === 'expert' ? `expert (${a2a})` : layout.r === 0 ? 'tutel r=0' : `tutel r=${layout.r} (${a2a})`;
}

/**
 * Predicts the step time of one MoE layer under `layout` on `hw`: compute plus every collective the
 * layout needs, in sequence (Tutel's a2a/FFN pipelining and any overlap with other layers are ignored).
 * Per step and GPU, with S = `dispatchBytes` (`f·K·T·D` elements) and P = `2·D·H` per expert:
 * - data:   no all-to-all; training all-reduces `E·P` over W.
 * - expert: 2 (4 in training) all-to-alls of S over `min(W, E)` GPUs; training all-reduces the local
 *           experts' `max(1, E/W)·P` over their `W/E` replicas.
 * - tutel r = 0: all-gather of `E·P` over W (+ reduce-scatter of the gradients in training).
 * - tutel r ≥ 1: 2 (4) all-to-alls of `r·S` over W; all-gather of the `P/r` slice inside groups of
 *           `s/r` (+ reduce-scatter in training).
 * @example
 * const cost = layoutStepTime(shape, ndmA100v4(64), { kind: 'tutel', r: 1, allToAll: '2dh' });
 */
export function layoutStepTime(shape: MoELayerShape, hw: Hardware, layout: ParallelLayout): LayoutCost {
  const where = 'layoutStepTime';
  const sh = validateShape(shape);
  validateHardware(hw);
  const W = hw.gpus, E = sh.numExperts, bytes = sh.bytesPerElement;
  const P = expertParameters(sh) * bytes;
  const S = dispatchBytes(sh);
  const a2aCount = sh.training ? 4 : 2;
  const compute = layerFlopsPerGpu(sh) / (hw.peakFlops * hw.flopsEfficiency);
  let allToAll = 0, parameterGather = 0, gradientSync = 0, a2aBytes = 0, heldParams = 0;
  if (layout.kind === 'data') {
    heldParams = E * P;
    if (sh.training) gradientSync = ringCollectiveTime(hw, 'allReduce', E * P, W).seconds;
  } else if (layout.kind === 'expert') {
    const group = Math.min(W, E);
    const replicas = Math.max(1, Math.floor(W / E));
    a2aBytes = a2aCount * S;
    allToAll = a2aCount * allToAllTime(hw, S, layout.allToAll ?? 'linear', group).seconds;
    heldParams = Math.max(1, E / W) * P;
    // Replicas of one expert sit E ranks apart (one per EP group of consecutive ranks): their ring runs
    // over NVLink when the whole job fits in one node, over the network otherwise.
    if (sh.training && replicas > 1) gradientSync = ringCollectiveTime(W <= hw.gpusPerNode ? hw : { ...hw, gpusPerNode: 1 }, 'allReduce', heldParams, replicas).seconds;
  } else if (layout.kind === 'tutel') {
    const valid = tutelDegrees(W, E);
    if (!valid.includes(layout.r)) throw new CostModelArgumentError(where, 'layout.r', `one of [${valid.join(', ')}] for ${W} GPUs and ${E} experts`, String(layout.r));
    const passes = sh.training ? 2 : 1; // gather forward, reduce-scatter of gradients backward
    if (layout.r === 0) {
      heldParams = E * P;
      parameterGather = passes * ringCollectiveTime(hw, 'allGather', E * P, W).seconds;
    } else {
      const s = shardedCount(W, E);
      const group = s / layout.r;
      heldParams = Math.max(1, E / W) * P / layout.r;
      a2aBytes = a2aCount * layout.r * S;
      allToAll = a2aCount * allToAllTime(hw, layout.r * S, layout.allToAll ?? 'linear', W).seconds;
      parameterGather = passes * ringCollectiveTime(hw, 'allGather', heldParams, group).seconds;
    }
  } else {
    throw new CostModelArgumentError(where, 'layout.kind', "'data', 'expert' or 'tutel'", String((layout as { kind: unknown }).kind));
  }
  const total = compute + allToAll + parameterGather + gradientSync;
  return { layout, label: layoutLabel(layout), compute, allToAll, parameterGather, gradientSync, total, allToAllBytesPerGpu: a2aBytes, parameterBytesPerGpu: heldParams };
}
