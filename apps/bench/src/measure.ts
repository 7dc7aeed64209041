/** Timing, leak and memory measurement of one benchmark step. */
import * as tf from '@tensorflow/tfjs';

/** What {@link measure} found. */
export interface Measurement {
  /** Median wall time of the timed runs, ms. */
  ms: number;
  /** Every timed run, ms. */
  runs: number[];
  /** Tensors left behind per step, averaged over the timed runs. */
  leaked: number;
  /**
   * Peak bytes of distinct live tensor buffers during one step, weights included; NaN when not
   * profiled. Counted per data buffer, so views (reshape) and the clones tfjs saves for backward
   * (`Identity`, sharing the buffer) are counted once.
   */
  peakBytes: number;
  /** `tf.profile`'s peak over the same step, which counts every view and saved clone as new bytes. */
  profilePeakBytes: number;
}

/**
 * Runs `fn` while tracking the bytes of distinct live data buffers, by wrapping the tfjs engine's
 * `trackTensor` and `removeDataId` (internals: a benchmark-only instrument), and returns the peak.
 * The count starts from `tf.memory().numBytes`, exact when no views are alive before `fn`.
 */
function peakBufferBytes(fn: () => void): number {
  type DataInfo = { bytes: number };
  const engine = tf.engine() as unknown as {
    state: { tensorInfo: { has(id: object): boolean; get(id: object): DataInfo | undefined } };
    trackTensor(a: tf.Tensor, backend: unknown): void;
    removeDataId(id: object, backend: unknown): void;
  };
  const { trackTensor, removeDataId } = engine;
  let live = tf.memory().numBytes;
  let peak = live;
  engine.trackTensor = function (this: typeof engine, a: tf.Tensor, backend: unknown) {
    const isNew = !this.state.tensorInfo.has(a.dataId);
    trackTensor.call(this, a, backend);
    if (isNew) {
      live += this.state.tensorInfo.get(a.dataId)?.bytes ?? 0;
      peak = Math.max(peak, live);
    }
  };
  engine.removeDataId = function (this: typeof engine, id: object, backend: unknown) {
    const info = this.state.tensorInfo.get(id);
    removeDataId.call(this, id, backend);
    if (info !== undefined && !this.state.tensorInfo.has(id)) live -= info.bytes;
  };
  try {
    fn();
  } finally {
    engine.trackTensor = trackTensor;
    engine.removeDataId = removeDataId;
  }
  return peak;
}

/**
 * Runs `step` `warmup` times, then `runs` timed times (each ends by reading its result back, so
 * asynchronous backends are timed to completion), counting tensors left behind over the timed runs,
 * then, if `profile`, once counting distinct live buffers and once under `tf.profile` for peak memory. `step` returns the tensors it
 * produced; they are disposed after each run.
 */
export async function measure(step: () => tf.Tensor[], options: { warmup?: number; runs?: number; profile?: boolean } = {}): Promise<Measurement> {
  const warmup = options.warmup ?? 1;
  const count = options.runs ?? 5;
  const once = () => {
    const out = step();
    for (const t of out) t.dataSync();
    tf.dispose(out);
  };
  for (let i = 0; i < warmup; i++) once();
  const before = tf.memory().numTensors;
  const runs: number[] = [];
  for (let i = 0; i < count; i++) {
    const t0 = performance.now();
    once();
    runs.push(performance.now() - t0);
  }
  const leaked = (tf.memory().numTensors - before) / count;
  const sorted = [...runs].sort((a, b) => a - b);
  const ms = sorted[Math.floor(sorted.length / 2)]!;
  if (options.profile === false) return { ms, runs, leaked, peakBytes: NaN, profilePeakBytes: NaN };
  const peakBytes = peakBufferBytes(once);
  const info = await tf.profile(() => {
    const out = step();
    for (const t of out) t.dataSync();
    return out;
  });
  tf.dispose(info.result as tf.Tensor[]);
  return { ms, runs, leaked, peakBytes, profilePeakBytes: info.peakBytes };
}

/** What {@link measureSideBySide} found. */
export interface SideBySide {
  /** Median ms of `a`. */
  aMs: number;
  /** Median ms of `b`. */
  bMs: number;
  /** Median over the runs of `b`'s time over `a`'s time in the same round: robust to a shared, noisy machine. */
  ratio: number;
  /** Tensors `b` left behind per run. */
  leaked: number;
  /** Peak bytes of distinct live buffers during one run of `b`. */
  peakBytes: number;
}

/**
 * Times two steps in alternating rounds (`a` then `b`, then `b` then `a`, …) after `warmup` runs of
 * each, so both see the same load, and reports each median and the median of the per-round ratios.
 */
export function measureSideBySide(a: () => tf.Tensor[], b: () => tf.Tensor[], options: { warmup?: number; runs?: number } = {}): SideBySide {
  const once = (step: () => tf.Tensor[]) => {
    const t0 = performance.now();
    const out = step();
    for (const t of out) t.dataSync();
    tf.dispose(out);
    return performance.now() - t0;
  };
  for (let i = 0; i < (options.warmup ?? 1); i++) {
    once(a);
    once(b);
  }
  const count = options.runs ?? 5;
  const aRuns: number[] = [];
  const bRuns: number[] = [];
  let leaked = 0;
  for (let i = 0; i < count; i++) {
    const order = i % 2 === 0 ? [a, b] : [b, a];
    for (const step of order) {
      const before = tf.memory().numTensors;
      const ms = once(step);
      if (step === b) {
        bRuns.push(ms);
        leaked += tf.memory().numTensors - before;
      } else {
        aRuns.push(ms);
      }
    }
  }
  const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
  return { aMs: median(aRuns), bMs: median(bRuns), ratio: median(bRuns.map((ms, i) => ms / aRuns[i]!)), leaked: leaked / count, peakBytes: peakBufferBytes(() => once(b)) };
}
