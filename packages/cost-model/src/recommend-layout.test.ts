import { describe, expect, it } from 'vitest';
import type { Hardware } from './hardware.js';
import { recommendLayout, tutelAutoUseModelParallel } from './recommend-layout.js';

const hw: Hardware = { gpus: 16, gpusPerNode: 8, peakFlops: 1e12, flopsEfficiency: 1, intraNode: { bandwidth: 100e9, latency: 1e-6 }, interNode: { bandwidth: 10e9, latency: 10e-6 } };
const inference = { tokensPerGpu: 1000, modelDim: 10, hiddenDim: 40, numExperts: 4, topK: 2, capacityFactor: 1.5, training: false };

describe('recommendLayout', () => {
  it('ranks every layout; with memory to spare, inference replicates the experts (no communication)', () => {
    const rec = recommendLayout(inference, hw);
    // data, expert ×2, tutel r=0, r ∈ {1, 2, 4} × {linear, 2dh}
    expect(rec.ranked).toHaveLength(10);
    expect(rec.best.label).toBe('data');
    expect(rec.best.total).toBeCloseTo(4.88e-6, 15);
    expect(rec.reason).toMatch(/^data: 0\.00 ms per step, compute the largest term; the worst \(tutel r=\d \(linear\)\) is \d+\.\d\dx slower$/);
  });

  it('leaves out layouts whose experts do not fit, and picks expert parallelism (11.78 µs)', () => {
    const rec = recommendLayout(inference, { ...hw, memoryBytes: 5000 });
    expect(rec.tooLarge.map((c) => c.label).sort()).toEqual(['data', 'tutel r=0']);
    expect(rec.best.label).toBe('expert (linear)');
    expect(rec.best.total).toBeCloseTo(11.78e-6, 15);
  });
});

describe('tutelAutoUseModelParallel (moe_layer.py line 336)', () => {
  it('model parallel iff numel(y)·(s−1)·2 < local expert parameters', () => {
    // s = 4; y = 1.5·2·1000·10 = 30 000 elements → 180 000 ≥ 800/4 = 200 local parameters: data (r = 1)
    expect(tutelAutoUseModelParallel(inference, 16)).toBe(false);
    // one token, top-1, f = 1: y = 10 elements → 60 < 200: model parallel (r = s)
    expect(tutelAutoUseModelParallel({ ...inference, tokensPerGpu: 1, topK: 1, capacityFactor: 1 }, 16)).toBe(true);
  });
});
