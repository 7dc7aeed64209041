/**
 * Test helper: exports a `MixtureOfExperts` to ONNX, runs it in onnxruntime-node on seeded inputs, and
 * returns how far ONNX Runtime's output is from `moe.apply(x, { training: false }).output`, with the
 * pairs the evaluation call dropped.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { MixtureOfExperts } from '@moekit/core';
import { exportMixtureOfExperts, type ExportMixtureOfExpertsOptions } from '../export/export-mixture-of-experts.js';
import { runOnnx } from './run-onnx.js';
import { maxAbsDifference } from './trace-and-run.js';

/** What {@link exportAndRun} measured. */
export interface ExportedRun {
  /** Largest absolute difference between ONNX Runtime's output and moekit's. */
  difference: number;
  /** Pairs moekit's evaluation call dropped for lack of capacity (`metrics.droppedCount`). */
  dropped: number;
  /** The model's size in bytes. */
  bytes: number;
}

/** Exports `moe` for `[T, D]` inputs and compares ONNX Runtime with `moe.apply` on input seeded by `seed`. */
export async function exportAndRun(moe: MixtureOfExperts, numTokens: number, inputDim: number, options: Omit<ExportMixtureOfExpertsOptions, 'numTokens'> = {}, seed = 11): Promise<ExportedRun> {
  const x = tf.randomNormal([numTokens, inputDim], 0, 1, 'float32', seed);
  const { output, auxLosses, metrics } = moe.apply(x, { training: false });
  const dropped = metrics.droppedCount;
  const bytes = exportMixtureOfExperts(moe, { numTokens, ...options });
  const ran = await runOnnx(bytes, { [options.inputName ?? 'x']: { data: x.dataSync() as Float32Array, dims: [numTokens, inputDim] } });
  const expected = { dims: [...output.shape], data: Array.from(output.dataSync()) };
  tf.dispose([x, output, ...Object.values(auxLosses)]);
  metrics.dispose();
  return { difference: maxAbsDifference(ran[options.outputName ?? 'y']!, expected), dropped, bytes: bytes.length };
}
