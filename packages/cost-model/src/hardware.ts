import { CostModelArgumentError, requireInteger, requirePositive } from './cost-model-error.js';

/** One class of link in the alpha-beta (Hockney) model: a message of `n` bytes takes `latency + n / bandwidth`. */
export interface Link {
  /** Bytes per second one GPU can send over this link (one direction). */
  bandwidth: number;
  /** Seconds of fixed cost per message (alpha). */
  latency: number;
}

/** A cluster of identical GPUs: `gpus` in all, `gpusPerNode` per node, NVLink-like links inside a node and a network between nodes. */
export interface Hardware {
  /** GPUs in the job (W). */
  gpus: number;
  /** GPUs per node (G); `gpus` must be a multiple of it, or smaller (one partial node). */
  gpusPerNode: number;
  /** Peak FLOP/s of one GPU at the training precision. */
  peakFlops: number;
  /** Fraction of `peakFlops` the expert matmuls reach (model FLOPs utilisation), in (0, 1]. */
  flopsEfficiency: number;
  /** The link between two GPUs of one node. */
  intraNode: Link;
  /** The link between two GPUs of different nodes, per GPU (a node's network bandwidth / G). */
  interNode: Link;
  /** Bytes of memory one GPU may give to expert parameters; `recommendLayout` skips layouts that need more. Unlimited when absent. */
  memoryBytes?: number;
}

/**
 * Azure NDm A100 v4, the cluster of the Tutel paper (Hwang et al. 2023, its evaluation setup): 8 A100
 * 80 GB per node, NVLink 3 (600 GB/s both directions, 300 GB/s one way per GPU) and 8 × 200 Gb/s HDR
 * InfiniBand per node (25 GB/s per GPU). Peak bf16/fp16 312 TFLOP/s per A100 (NVIDIA's data sheet).
 * The latencies (3 µs NVLink, 10 µs across InfiniBand through NCCL) and the 50 % matmul efficiency are
 * this package's assumptions, not the paper's; `memoryBytes` is the A100's whole 80 GB.
 * @example
 * const hw = ndmA100v4(2048); // 256 nodes
 */
export function ndmA100v4(gpus: number, overrides: Partial<Omit<Hardware, 'gpus'>> = {}): Hardware {
  return validateHardware({
    gpus,
    gpusPerNode: 8,
    peakFlops: 312e12,
    flopsEfficiency: 0.5,
    intraNode: { bandwidth: 300e9, latency: 3e-6 },
    interNode: { bandwidth: 25e9, latency: 10e-6 },
    memoryBytes: 80e9,
    ...overrides,
  });
}

/** Checks a `Hardware` description and returns it; every field is named in the error it throws. */
export function validateHardware(hw: Hardware): Hardware {
  const where = 'validateHardware';
  requireInteger(where, 'gpus', hw.gpus);
  requireInteger(where, 'gpusPerNode', hw.gpusPerNode);
  if (hw.gpus > hw.gpusPerNode && hw.gpus % hw.gpusPerNode !== 0) {
    throw new CostModelArgumentError(where, 'gpus', `a multiple of gpusPerNode (${hw.gpusPerNode}) or at most one node`, String(hw.gpus));
  }
  requirePositive(where, 'peakFlops', hw.peakFlops);
  requirePositive(where, 'flopsEfficiency', hw.flopsEfficiency);
  if (hw.flopsEfficiency > 1) throw new CostModelArgumentError(where, 'flopsEfficiency', 'a number in (0, 1]', String(hw.flopsEfficiency));
  for (const name of ['intraNode', 'interNode'] as const) {
    requirePositive(where, `${name}.bandwidth`, hw[name].bandwidth);
    requirePositive(where, `${name}.latency`, hw[name].latency, true);
  }
  if (hw.memoryBytes !== undefined) requirePositive(where, 'memoryBytes', hw.memoryBytes);
  return hw;
}

/** Nodes the job spans: `ceil(gpus / gpusPerNode)`. */
export function nodeCount(hw: Hardware): number {
  return Math.ceil(hw.gpus / hw.gpusPerNode);
}

/** GPUs of one node taking part: `min(gpus, gpusPerNode)`. */
export function localGpus(hw: Hardware): number {
  return Math.min(hw.gpus, hw.gpusPerNode);
}
