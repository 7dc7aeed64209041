import { describe, expect, it } from 'vitest';
import type { Hardware } from './hardware.js';
import { ringCollectiveTime } from './ring-collectives.js';

const hw: Hardware = { gpus: 16, gpusPerNode: 8, peakFlops: 1e12, flopsEfficiency: 1, intraNode: { bandwidth: 100e9, latency: 1e-6 }, interNode: { bandwidth: 10e9, latency: 10e-6 } };

describe('ringCollectiveTime', () => {
  it('all-reduce inside a node: 2(g-1)·α + 2(g-1)/g·S/B', () => {
    // g = 4, S = 400 MB: 6·1 µs + 2·3/4·400 MB / 100 GB/s = 6 µs + 6 ms
    expect(ringCollectiveTime(hw, 'allReduce', 400e6, 4).seconds).toBeCloseTo(6.006e-3, 12);
  });

  it('all-gather and reduce-scatter are half an all-reduce; across nodes the network is the bottleneck', () => {
    // g = 16 spans 2 nodes: 15·10 µs + 15/16·160 MB / 10 GB/s = 150 µs + 15 ms
    expect(ringCollectiveTime(hw, 'allGather', 160e6, 16).seconds).toBeCloseTo(15.15e-3, 12);
    expect(ringCollectiveTime(hw, 'reduceScatter', 160e6, 16).seconds).toBeCloseTo(15.15e-3, 12);
    expect(ringCollectiveTime(hw, 'allReduce', 160e6, 16).seconds).toBeCloseTo(30.3e-3, 12);
  });

  it('a group of one costs nothing', () => {
    expect(ringCollectiveTime(hw, 'allReduce', 1e9, 1)).toEqual({ seconds: 0, latency: 0, transfer: 0 });
  });

  it('rejects an unknown collective by name', () => {
    expect(() => ringCollectiveTime(hw, 'broadcast' as never, 1)).toThrow("ringCollectiveTime: argument 'collective' expected 'allReduce', 'allGather' or 'reduceScatter', got broadcast");
  });
});
