import { describe, expect, it } from 'vitest';
import type { Hardware } from './hardware.js';
import { layoutStepTime, shardedCount, tutelDegrees } from './parallel-layout.js';

// 16 GPUs on 2 nodes, 1 TFLOP/s at full efficiency: compute = FLOPs · 1e-12 s.
const hw: Hardware = { gpus: 16, gpusPerNode: 8, peakFlops: 1e12, flopsEfficiency: 1, intraNode: { bandwidth: 100e9, latency: 1e-6 }, interNode: { bandwidth: 10e9, latency: 10e-6 } };
// S = 1.5·2·1000 rows · 10 · 2 bytes = 60 000 bytes; P = 2·10·40 · 2 bytes = 1600 bytes per expert;
// forward FLOPs 4 880 000 → 4.88 µs (layer-shapes.test.ts).
const inference = { tokensPerGpu: 1000, modelDim: 10, hiddenDim: 40, numExperts: 4, topK: 2, capacityFactor: 1.5, training: false };

describe('layoutStepTime', () => {
  it("Tutel's degrees: r ∈ {0} ∪ divisors of s = W/E", () => {
    expect(shardedCount(16, 4)).toBe(4);
    expect(tutelDegrees(16, 4)).toEqual([0, 1, 2, 4]);
    expect(tutelDegrees(8, 64)).toEqual([0, 1]);
  });

  it('data parallel in inference is compute only; in training it all-reduces all experts over W', () => {
    expect(layoutStepTime(inference, hw, { kind: 'data' }).total).toBeCloseTo(4.88e-6, 15);
    // training: 3 · 4.88 µs = 14.64 µs; all-reduce of 4·1600 B over 16 (network):
    // 2·15·10 µs + 2·15/16·6400 B / 10 GB/s = 300 µs + 1.2 µs
    const t = layoutStepTime({ ...inference, training: true }, hw, { kind: 'data' });
    expect(t.gradientSync).toBeCloseTo(301.2e-6, 15);
    expect(t.total).toBeCloseTo(315.84e-6, 15);
  });

  it('expert parallel: two all-to-alls of S inside groups of min(W, E) = 4 GPUs (one node)', () => {
    // one a2a: 3·1 µs + 3/4·60 000 B / 100 GB/s = 3.45 µs; two: 6.9 µs; + 4.88 µs compute
    const t = layoutStepTime(inference, hw, { kind: 'expert' });
    expect(t.allToAll).toBeCloseTo(6.9e-6, 15);
    expect(t.total).toBeCloseTo(11.78e-6, 15);
    expect([t.allToAllBytesPerGpu, t.parameterBytesPerGpu]).toEqual([120000, 1600]);
  });

  it('tutel r = 2: tokens repeated twice over all 16 GPUs, a half expert gathered in pairs', () => {
    // a2a of 120 000 B over 16 (linear): 87 µs + max(7/16·120 kB / 100 GB/s, 8/16·120 kB / 10 GB/s = 6 µs) = 93 µs; ×2 = 186 µs
    // gather of the 800 B half inside a pair (NVLink): 1 µs + 1/2·800 B / 100 GB/s = 1.004 µs
    const t = layoutStepTime(inference, hw, { kind: 'tutel', r: 2 });
    expect(t.allToAll).toBeCloseTo(186e-6, 15);
    expect(t.parameterGather).toBeCloseTo(1.004e-6, 15);
    expect(t.total).toBeCloseTo(191.884e-6, 15);
    expect(t.parameterBytesPerGpu).toBe(800);
  });

  it('tutel r = 0 gathers every expert on every GPU and sends no token', () => {
    // all-gather of 6400 B over 16: 15·10 µs + 15/16·6400 B / 10 GB/s = 150.6 µs
    const t = layoutStepTime(inference, hw, { kind: 'tutel', r: 0 });
    expect([t.allToAll, t.allToAllBytesPerGpu]).toEqual([0, 0]);
    expect(t.total).toBeCloseTo(155.48e-6, 15);
  });

  it('rejects a degree Tutel would reject, naming the valid ones', () => {
    expect(() => layoutStepTime(inference, hw, { kind: 'tutel', r: 3 })).toThrow("layoutStepTime: argument 'layout.r' expected one of [0, 1, 2, 4] for 16 GPUs and 4 experts, got 3");
    expect(() => layoutStepTime(inference, hw, { kind: 'pipeline' } as never)).toThrow("argument 'layout.kind' expected 'data', 'expert' or 'tutel', got pipeline");
  });
});
