import { describe, expect, it } from 'vitest';
import { allToAllTime } from './all-to-all.js';
import type { Hardware } from './hardware.js';

// Round numbers so the arithmetic can be done by hand: 2 nodes of 8 GPUs.
const hw: Hardware = { gpus: 16, gpusPerNode: 8, peakFlops: 1e12, flopsEfficiency: 1, intraNode: { bandwidth: 100e9, latency: 1e-6 }, interNode: { bandwidth: 10e9, latency: 10e-6 } };

describe('allToAllTime', () => {
  it('linear: (L-1)·α_intra + (W-L)·α_inter + max of the local and remote transfers', () => {
    // 7·1 µs + 8·10 µs = 87 µs; max(7/16·160 MB / 100 GB/s = 0.7 ms, 8/16·160 MB / 10 GB/s = 8 ms) = 8 ms
    const t = allToAllTime(hw, 160e6, 'linear');
    expect(t.latency).toBeCloseTo(87e-6, 12);
    expect(t.transfer).toBeCloseTo(8e-3, 12);
    expect(t.seconds).toBeCloseTo(8.087e-3, 12);
  });

  it('2dh: an intra-node phase then an inter-node phase between equal local ranks', () => {
    // 7 µs + 7/8·160 MB / 100 GB/s = 1.407 ms;  10 µs + 1/2·160 MB / 10 GB/s = 8.010 ms  →  9.417 ms
    expect(allToAllTime(hw, 160e6, '2dh').seconds).toBeCloseTo(9.417e-3, 12);
  });

  it('2dh wins when latency dominates: 160 kB per GPU', () => {
    // linear: 87 µs + 8 µs = 95 µs;  2dh: 7 µs + 1.4 µs + 10 µs + 8 µs = 26.4 µs
    expect(allToAllTime(hw, 160e3, 'linear').seconds).toBeCloseTo(95e-6, 12);
    expect(allToAllTime(hw, 160e3, '2dh').seconds).toBeCloseTo(26.4e-6, 12);
  });

  it('inside one node both algorithms are the same: (W-1)·α + (W-1)/W·S/B', () => {
    // group of 4: 3·1 µs + 3/4·400 MB / 100 GB/s = 3 µs + 3 ms
    expect(allToAllTime(hw, 400e6, 'linear', 4).seconds).toBeCloseTo(3.003e-3, 12);
    expect(allToAllTime(hw, 400e6, '2dh', 4).seconds).toBeCloseTo(3.003e-3, 12);
  });

  it('rejects bad arguments by name', () => {
    expect(() => allToAllTime(hw, -1)).toThrow("allToAllTime: argument 'bytes' expected a finite number >= 0, got -1");
    expect(() => allToAllTime(hw, 1, 'linear', 32)).toThrow("allToAllTime: argument 'groupGpus' expected at most hw.gpus (16), got 32");
    expect(() => allToAllTime(hw, 1, 'ring' as never)).toThrow("argument 'algorithm' expected 'linear' or '2dh', got ring");
  });
});
