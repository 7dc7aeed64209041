import { requireInteger, requirePositive, CostModelArgumentError } from './cost-model-error.js';
import { type Hardware, validateHardware } from './hardware.js';

/** How an all-to-all is scheduled: `'linear'` (NCCL's pairwise send/recv to every peer) or Tutel's two-dimensional hierarchical `'2dh'`. */
export type AllToAllAlgorithm = 'linear' | '2dh';

/** The predicted time of one collective, split into its latency (alpha) and bandwidth (beta) terms. */
export interface CollectiveTime {
  /** Seconds: `latency + transfer`. */
  seconds: number;
  /** Seconds spent on per-message latency. */
  latency: number;
  /** Seconds spent moving bytes. */
  transfer: number;
}

/** Nodes and GPUs per node a group of `groupGpus` consecutive ranks spans on `hw`. */
function groupLayout(hw: Hardware, groupGpus: number): { nodes: number; local: number } {
  const local = Math.min(groupGpus, hw.gpusPerNode);
  return { nodes: Math.ceil(groupGpus / local), local };
}

/**
 * Time of one all-to-all in which every GPU of a group of `groupGpus` consecutive ranks sends `bytes`
 * (its whole buffer, `1/groupGpus` of it to each peer, itself included), in the alpha-beta model.
 *
 * `'linear'` (what `torch.distributed.all_to_all_single` / NCCL does): one message to each of the
 * `L − 1` local and `W − L` remote peers; the local and remote bytes move at the same time, so the
 * transfer is the slower of the two:
 *   t = (L−1)·α_intra + (W−L)·α_inter + max((L−1)/W · S / B_intra, (W−L)/W · S / B_inter).
 *
 * `'2dh'` (Tutel, Hwang et al. 2023, the "2DH All-to-All" section, `PrimAllToAll2D` in
 * `tutel/impls/communicate.py`): first an all-to-all inside each node that gathers, on local rank `l`,
 * every chunk bound for local rank `l` of any node, then an all-to-all among the `N` nodes between the
 * GPUs of equal local rank, in chunks `L` times larger:
 *   t = (L−1)·α_intra + (L−1)/L · S / B_intra  +  (N−1)·α_inter + (N−1)/N · S / B_inter.
 * It trades `W − L` small remote messages for `N − 1` large ones, and pays an extra pass over NVLink;
 * the strided memory copies between the phases are ignored. On one node both algorithms are equal.
 *
 * Worked example (the test pins it): W = 16 on 2 nodes of L = 8, S = 160 MB, B_intra = 100 GB/s,
 * B_inter = 10 GB/s, α_intra = 1 µs, α_inter = 10 µs.
 *   linear: 7·1 µs + 8·10 µs = 87 µs; max(7/16·160 MB / 100 GB/s = 0.7 ms, 8/16·160 MB / 10 GB/s = 8 ms)
 *           = 8 ms  →  8.087 ms.
 *   2dh:    7 µs + 7/8·160 MB / 100 GB/s = 1.407 ms;  10 µs + 1/2·160 MB / 10 GB/s = 8.010 ms  →  9.417 ms.
 * (At this message size 2DH loses; at S = 160 kB the latency terms dominate and it wins.)
 * @example
 * const t = allToAllTime(ndmA100v4(2048), 1 << 20, '2dh').seconds;
 */
export function allToAllTime(hw: Hardware, bytes: number, algorithm: AllToAllAlgorithm = 'linear', groupGpus: number = hw.gpus): CollectiveTime {
  const where = 'allToAllTime';
  validateHardware(hw);
  requirePositive(where, 'bytes', bytes, true);
  requireInteger(where, 'groupGpus', groupGpus);
  if (groupGpus > hw.gpus) throw new CostModelArgumentError(where, 'groupGpus', `at most hw.gpus (${hw.gpus})`, String(groupGpus));
  if (algorithm !== 'linear' && algorithm !== '2dh') throw new CostModelArgumentError(where, 'algorithm', "'linear' or '2dh'", String(algorithm));
  const { nodes, local } = groupLayout(hw, groupGpus);
  const W = groupGpus;
  const a = hw.intraNode, b = hw.interNode;
  if (algorithm === 'linear' || nodes === 1) {
    const latency = (local - 1) * a.latency + (W - local) * b.latency;
    const transfer = Math.max(((local - 1) / W) * bytes / a.bandwidth, ((W - local) / W) * bytes / b.bandwidth);
    return { seconds: latency + transfer, latency, transfer };
  }
  const latency = (local - 1) * a.latency + (nodes - 1) * b.latency;
  const transfer = ((local - 1) / local) * bytes / a.bandwidth + ((nodes - 1) / nodes) * bytes / b.bandwidth;
  return { seconds: latency + transfer, latency, transfer };
}
