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
  /** Peak bytes allocated during one step (tf.profile); NaN when not profiled. */
  peakBytes: number;
}

/**
 * Runs `step` `warmup` times, then `runs` timed times (each ends by reading its result back, so
 * asynchronous backends are timed to completion), counting tensors left behind over the timed runs,
 * then, if `profile`, once under `tf.profile` for peak memory. `step` returns the tensors it
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
  if (options.profile === false) return { ms, runs, leaked, peakBytes: NaN };
  const info = await tf.profile(() => {
    const out = step();
    for (const t of out) t.dataSync();
    return out;
  });
  tf.dispose(info.result as tf.Tensor[]);
  return { ms, runs, leaked, peakBytes: info.peakBytes };
}
