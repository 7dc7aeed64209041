import { describe, expect, it } from 'vitest';
import { matMulLines, median, medianRoundRatio, peerTable, summarise, timesExpertMatMuls, type PeerLayerRow } from './peer-report.js';
import type { BenchConfig } from './strategies.js';

const config: BenchConfig = { numTokens: 4096, dim: 512, hidden: 1024, numExperts: 8, k: 1, capacityFactor: 1.25 };
const row = (mode: PeerLayerRow['mode'], ms: number, peakMB = NaN): PeerLayerRow => ({ kind: 'layer', config, mode, ms, coresBusy: 1.5, peakMB });

describe('peer ratio maths', () => {
  it('median takes the middle (the upper middle of an even count)', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(3);
    expect(median([])).toBeNaN();
  });

  it('medianRoundRatio is the median of per-round ratios, not the ratio of medians', () => {
    // rounds: 100/50 = 2, 300/100 = 3, 120/120 = 1 → median 2; medians 120/100 would say 1.2
    expect(medianRoundRatio([100, 300, 120], [50, 100, 120])).toBe(2);
    expect(() => medianRoundRatio([1, 2], [1])).toThrow('2 rounds of a against 1 of b');
  });

  it('timesExpertMatMuls divides the train step by its matMuls at the plain rate', () => {
    // 3 · 4 · 1 · 4096 · 512 · 1024 = 25.77 GFLOP; at 40 GFLOP/s that is 644.2 ms; 805.3 ms is 1.25×
    expect(timesExpertMatMuls(805.3064, config, 40)).toBeCloseTo(1.25, 4);
  });
});

describe('peer summary and table', () => {
  const summary = summarise({
    config,
    moekit: [row('train', 800, 322), row('infer', 190, 300), row('train', 900, NaN), row('infer', 200, NaN), row('train', 1000, NaN), row('infer', 210, NaN)],
    torch: [row('train', 400, 250), row('infer', 100, 200), row('train', 600, 250), row('infer', 50, 200), row('train', 500, 250), row('infer', 100, 200)],
    onnxRuntimeMs: [undefined, undefined, undefined],
  });

  it('summarises medians and per-round ratios moekit / torch', () => {
    // train rounds 800/400 = 2, 900/600 = 1.5, 1000/500 = 2 → 2; infer 190/100 = 1.9, 200/50 = 4, 210/100 = 2.1 → 2.1
    expect(summary.moekitTrainMs).toBe(900);
    expect(summary.torchTrainMs).toBe(500);
    expect(summary.trainRatio).toBe(2);
    expect(summary.inferRatio).toBeCloseTo(2.1, 10);
    expect(summary.moekitPeakMB).toBe(322);
    expect(summary.onnxRuntimeMs).toBeUndefined();
  });

  it('prints "not measured" in the ONNX Runtime column when nothing measured it', () => {
    const table = peerTable([summary], 40);
    expect(table).toContain('| T=4096 D=512 H=1024 E=8 k=1 cf=1.25 | 900 | 500 | 2.00× | 200 | 100 | 2.10× | not measured |  | 1.50 / 1.50 | 322 / 250 | 1.40× |');
  });

  it('gives the ONNX Runtime column its per-round ratio to torch when every round measured it', () => {
    const withOnnx = summarise({ config, moekit: [row('infer', 190, 300), row('infer', 200, NaN), row('infer', 210, NaN)], torch: [row('infer', 100, 200), row('infer', 50, 200), row('infer', 100, 200)], onnxRuntimeMs: [110, 60, 130] });
    // rounds 110/100 = 1.1, 60/50 = 1.2, 130/100 = 1.3 → median 1.2; median ms 110
    expect(withOnnx.onnxRuntimeMs).toBe(110);
    expect(withOnnx.onnxInferRatio).toBeCloseTo(1.2, 10);
    expect(summary.onnxInferRatio).toBeUndefined();
  });

  it('lists matMul rates fastest first', () => {
    expect(matMulLines([{ kind: 'matmul', library: 'a', ms: 20, gflops: 50 }, { kind: 'matmul', library: 'b', ms: 10, gflops: 100 }])).toBe('- b: 10.00 ms, 100.0 GFLOP/s\n- a: 20.00 ms, 50.0 GFLOP/s');
  });
});
