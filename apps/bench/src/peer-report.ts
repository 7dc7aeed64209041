/**
 * The pure half of the PyTorch peer (`--peer torch`): what the moekit and torch processes print, the
 * medians and per-round ratios over them, and the markdown table. No timing happens here.
 */
import type { BenchConfig } from './strategies.js';

/** One layer measurement from either side, as printed on a JSON line. */
export interface PeerLayerRow {
  kind: 'layer';
  /** The shape measured. */
  config: BenchConfig;
  /** `train` (forward, backward to every weight and the input, SGD) or `infer` (forward only). */
  mode: 'train' | 'infer';
  /** Median ms of the timed steps. */
  ms: number;
  /** Process CPU time over wall time during the timed steps. */
  coresBusy: number;
  /** Peak MB of distinct live buffers of one step, weights included; NaN when not measured this round. */
  peakMB: number;
}

/** A matMul rate of `[1024,512]×[512,1024]` in one library. */
export interface PeerMatMulRow {
  kind: 'matmul';
  /** The library and its version or backend. */
  library: string;
  /** Median ms. */
  ms: number;
  /** `2·1024·512·1024 / ms`, GFLOP/s. */
  gflops: number;
}

/** Everything measured for one shape over R alternating rounds. */
export interface PeerRounds {
  /** The shape. */
  config: BenchConfig;
  /** moekit's rows, one per mode per round. */
  moekit: PeerLayerRow[];
  /** PyTorch's rows, one per mode per round. */
  torch: PeerLayerRow[];
  /** ONNX Runtime inference ms per round, or undefined where not measured. */
  onnxRuntimeMs: (number | undefined)[];
}

/** The median (the upper middle element for an even count); NaN for an empty list. */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  return [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
}

/**
 * The median of the per-round ratios `a[i] / b[i]`: each ratio compares two runs under the same load,
 * so it is steadier on a shared machine than the ratio of the medians.
 */
export function medianRoundRatio(a: readonly number[], b: readonly number[]): number {
  if (a.length !== b.length) throw new Error(`medianRoundRatio: ${a.length} rounds of a against ${b.length} of b`);
  return median(a.map((x, i) => x / b[i]!));
}

/**
 * The train step against the experts' FLOPs at the plain matMul rate: `trainMs / (3 · 4kTDH / rate)`,
 * the forward's two matMuls and the backward's four over `k·T` rows (3× the forward) at `rate` GFLOP/s.
 * 1.0 means the step costs exactly its matMuls at that rate; the issue's target is ≤ 1.25.
 */
export function timesExpertMatMuls(trainMs: number, c: BenchConfig, matMulGflops: number): number {
  const flops = 3 * 4 * c.k * c.numTokens * c.dim * c.hidden;
  return trainMs / (flops / matMulGflops / 1e6);
}

/** Per-mode summary of one shape: medians over rounds, median per-round ratios (moekit / torch). */
export interface PeerSummary {
  config: BenchConfig;
  moekitTrainMs: number;
  torchTrainMs: number;
  trainRatio: number;
  moekitInferMs: number;
  torchInferMs: number;
  inferRatio: number;
  moekitCores: { train: number; infer: number };
  torchCores: { train: number; infer: number };
  moekitPeakMB: number;
  torchPeakMB: number;
  /** Median ONNX Runtime inference ms, undefined when no round measured it. */
  onnxRuntimeMs: number | undefined;
  /** Median per-round ratio ONNX Runtime inference / torch inference, undefined unless every round measured it. */
  onnxInferRatio: number | undefined;
}

/** Summarises the rounds of one shape (rows are matched by round order within each mode). */
export function summarise(r: PeerRounds): PeerSummary {
  const of = (rows: PeerLayerRow[], mode: PeerLayerRow['mode']) => rows.filter((row) => row.mode === mode);
  const ms = (rows: PeerLayerRow[]) => rows.map((row) => row.ms);
  const finite = (xs: number[]) => xs.filter((x) => Number.isFinite(x));
  const [mt, tt, mi, ti] = [of(r.moekit, 'train'), of(r.torch, 'train'), of(r.moekit, 'infer'), of(r.torch, 'infer')];
  const onnx = r.onnxRuntimeMs.filter((x): x is number => x !== undefined);
  return {
    config: r.config,
    moekitTrainMs: median(ms(mt)),
    torchTrainMs: median(ms(tt)),
    trainRatio: medianRoundRatio(ms(mt), ms(tt)),
    moekitInferMs: median(ms(mi)),
    torchInferMs: median(ms(ti)),
    inferRatio: medianRoundRatio(ms(mi), ms(ti)),
    moekitCores: { train: median(mt.map((x) => x.coresBusy)), infer: median(mi.map((x) => x.coresBusy)) },
    torchCores: { train: median(tt.map((x) => x.coresBusy)), infer: median(ti.map((x) => x.coresBusy)) },
    moekitPeakMB: median(finite(mt.map((x) => x.peakMB))),
    torchPeakMB: median(finite(tt.map((x) => x.peakMB))),
    onnxRuntimeMs: onnx.length > 0 ? median(onnx) : undefined,
    onnxInferRatio: onnx.length === r.onnxRuntimeMs.length && onnx.length === ti.length && onnx.length > 0 ? medianRoundRatio(onnx, ms(ti)) : undefined,
  };
}

/** The table of `--peer torch`: one row per shape, times in ms, ratios moekit / torch, the matMul figure. */
export function peerTable(summaries: readonly PeerSummary[], wasmMatMulGflops: number): string {
  const lines = [
    '| config | moekit train ms | torch train ms | train moekit/torch | moekit infer ms | torch infer ms | infer moekit/torch | ONNX Runtime inference ms | infer ONNX Runtime/torch | cores busy train (moekit / torch) | peak MB train (moekit / torch) | moekit train × expert matMuls at wasm rate |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const s of summaries) {
    const c = s.config;
    const cfg = `T=${c.numTokens} D=${c.dim} H=${c.hidden} E=${c.numExperts} k=${c.k} cf=${c.capacityFactor}`;
    const onnx = s.onnxRuntimeMs === undefined ? 'not measured' : s.onnxRuntimeMs.toFixed(0);
    const onnxRatio = s.onnxInferRatio === undefined ? '' : `${s.onnxInferRatio.toFixed(2)}×`;
    lines.push(`| ${cfg} | ${s.moekitTrainMs.toFixed(0)} | ${s.torchTrainMs.toFixed(0)} | ${s.trainRatio.toFixed(2)}× | ${s.moekitInferMs.toFixed(0)} | ${s.torchInferMs.toFixed(0)} | ${s.inferRatio.toFixed(2)}× | ${onnx} | ${onnxRatio} | ${s.moekitCores.train.toFixed(2)} / ${s.torchCores.train.toFixed(2)} | ${s.moekitPeakMB.toFixed(0)} / ${s.torchPeakMB.toFixed(0)} | ${timesExpertMatMuls(s.moekitTrainMs, c, wasmMatMulGflops).toFixed(2)}× |`);
  }
  return lines.join('\n');
}

/** The matMul rates side by side, best first, one line each. */
export function matMulLines(rows: readonly PeerMatMulRow[]): string {
  return [...rows].sort((a, b) => b.gflops - a.gflops).map((r) => `- ${r.library}: ${r.ms.toFixed(2)} ms, ${r.gflops.toFixed(1)} GFLOP/s`).join('\n');
}
