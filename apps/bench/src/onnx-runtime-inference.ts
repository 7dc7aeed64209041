/**
 * The "ONNX Runtime inference" column of `--peer torch`: the peer layer's `MixtureOfExperts` exported
 * with `@moekit/onnx` (evaluation capacity and drops as `moe.apply`) and run in onnxruntime-node with
 * 2 intra-op threads, timed like the other columns (median of `runs` after one warm-up).
 */
import * as tf from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-node';
import type { MixtureOfExperts } from '@moekit/core';
import { exportMixtureOfExperts } from '@moekit/onnx';

/**
 * Median ms of one inference of `moe`, exported for `x`'s `[T, D]`, in ONNX Runtime; also how many
 * tokens' outputs differ from `moe.apply`'s by more than 1e-4 (a near-tie between two gate values can
 * resolve differently under ONNX Runtime's and tfjs-wasm's float32 sums, routing that token, and the
 * capacity after it, differently; the tests hold the export to 1e-5 where no tie is that close).
 */
export async function onnxRuntimeInference(moe: MixtureOfExperts, x: tf.Tensor2D, runs: number, threads = 2): Promise<{ ms: number; tokensDiffering: number }> {
  const [T, D] = x.shape;
  const session = await ort.InferenceSession.create(exportMixtureOfExperts(moe, { numTokens: T }), { intraOpNumThreads: threads, interOpNumThreads: 1, graphOptimizationLevel: 'all', logSeverityLevel: 3 });
  try {
    const feeds = { x: new ort.Tensor('float32', Float32Array.from(x.dataSync()), [T, D]) };
    const once = async () => {
      const t0 = performance.now();
      const out = await session.run(feeds);
      const ms = performance.now() - t0;
      const y = out['y']!.data as Float32Array;
      for (const t of Object.values(out)) t.dispose();
      return { ms, y };
    };
    const { y } = await once(); // warm-up
    const times: number[] = [];
    for (let i = 0; i < runs; i++) times.push((await once()).ms);
    times.sort((a, b) => a - b);
    const { output, auxLosses, metrics } = moe.apply(x, { training: false });
    const expected = output.dataSync();
    const differing = new Set<number>();
    y.forEach((v, i) => {
      if (Math.abs(v - expected[i]!) > 1e-4) differing.add(Math.floor(i / D));
    });
    tf.dispose([output, ...Object.values(auxLosses)]);
    metrics.dispose();
    return { ms: times[Math.floor(times.length / 2)]!, tokensDiffering: differing.size };
  } finally {
    await session.release();
  }
}
