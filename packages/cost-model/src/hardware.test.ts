import { describe, expect, it } from 'vitest';
import { CostModelArgumentError } from './cost-model-error.js';
import { localGpus, ndmA100v4, nodeCount, validateHardware } from './hardware.js';

describe('hardware', () => {
  it('ndmA100v4 describes the Tutel paper cluster: 8 A100s per node, 300 GB/s NVLink, 25 GB/s InfiniBand per GPU', () => {
    const hw = ndmA100v4(2048);
    expect([hw.gpusPerNode, hw.intraNode.bandwidth, hw.interNode.bandwidth, hw.peakFlops]).toEqual([8, 300e9, 25e9, 312e12]);
    expect(nodeCount(hw)).toBe(256);
    expect(localGpus(ndmA100v4(4))).toBe(4);
  });

  it('rejects a GPU count that is not whole nodes, and a bad efficiency, by name', () => {
    expect(() => ndmA100v4(12)).toThrow("validateHardware: argument 'gpus' expected a multiple of gpusPerNode (8) or at most one node, got 12");
    expect(() => ndmA100v4(8, { flopsEfficiency: 1.5 })).toThrow("argument 'flopsEfficiency' expected a number in (0, 1], got 1.5");
    expect(() => ndmA100v4(8, { interNode: { bandwidth: 0, latency: 1e-6 } })).toThrow(CostModelArgumentError);
    expect(() => ndmA100v4(8, { interNode: { bandwidth: 0, latency: 1e-6 } })).toThrow("'interNode.bandwidth' expected a finite number > 0, got 0");
  });
});
