import { requireInteger, requirePositive, CostModelArgumentError } from './cost-model-error.js';
import { type Hardware, type Link, validateHardware } from './hardware.js';
import type { CollectiveTime } from './all-to-all.js';

/** The collectives a ring runs: all-reduce, all-gather and reduce-scatter. */
export type RingCollective = 'allReduce' | 'allGather' | 'reduceScatter';

/** The slowest link of a ring over `groupGpus` consecutive ranks: NVLink inside one node, the network otherwise. */
function ringLink(hw: Hardware, groupGpus: number): Link {
  return groupGpus <= hw.gpusPerNode ? hw.intraNode : hw.interNode;
}

/**
 * Time of a ring collective over a group of `groupGpus` consecutive ranks on `bytes`, the size of the
 * full (reduced or gathered) buffer, in the alpha-beta model (Thakur, Rabenseifner & Gropp 2005,
 * "Optimization of Collective Communication Operations in MPICH", §4: ring all-gather; all-reduce =
 * reduce-scatter + all-gather, as NCCL's ring):
 *   all-gather = reduce-scatter:  (g−1)·α + (g−1)/g · S / B
 *   all-reduce:                 2·(g−1)·α + 2·(g−1)/g · S / B
 * with B, α the slowest link of the ring. Worked example (pinned by the test): g = 4 in one node,
 * S = 400 MB, B = 100 GB/s, α = 1 µs: all-reduce = 6 µs + 2·3/4·400 MB / 100 GB/s = 6 µs + 6 ms.
 * A group of one costs nothing.
 */
export function ringCollectiveTime(hw: Hardware, collective: RingCollective, bytes: number, groupGpus: number = hw.gpus): CollectiveTime {
  const where = 'ringCollectiveTime';
  validateHardware(hw);
  requirePositive(where, 'bytes', bytes, true);
  requireInteger(where, 'groupGpus', groupGpus);
  if (groupGpus > hw.gpus) throw new CostModelArgumentError(where, 'groupGpus', `at most hw.gpus (${hw.gpus})`, String(groupGpus));
  if (!['allReduce', 'allGather', 'reduceScatter'].includes(collective)) throw new CostModelArgumentError(where, 'collective', "'allReduce', 'allGather' or 'reduceScatter'", String(collective));
  if (groupGpus === 1) return { seconds: 0, latency: 0, transfer: 0 };
  const link = ringLink(hw, groupGpus);
  const passes = collective === 'allReduce' ? 2 : 1;
  const g = groupGpus;
  const latency = passes * (g - 1) * link.latency;
  const transfer = passes * ((g - 1) / g) * bytes / link.bandwidth;
  return { seconds: latency + transfer, latency, transfer };
}
