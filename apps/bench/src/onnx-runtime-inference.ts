/**
 * The optional "ONNX Runtime inference" column of `--peer torch`: the same MoE layer exported to ONNX
 * and run in onnxruntime-node. `@moekit/onnx` has no `exportMixtureOfExperts` yet (issue 22 builds
 * it), so this is a stub: every shape is "not measured" until it is wired here.
 */
import type { BenchConfig } from './strategies.js';

/**
 * Median ms of one inference of the shape's MoE layer in ONNX Runtime (intraOpNumThreads 2), or
 * `undefined` when not measured (the table prints "not measured").
 */
export async function onnxRuntimeInference(shape: BenchConfig): Promise<number | undefined> {
  void shape;
  return undefined;
}
