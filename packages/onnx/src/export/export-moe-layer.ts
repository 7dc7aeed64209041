/**
 * A trained `MoELayer` (`@moekit/layers`) as an ONNX model: its evaluation call on inputs of one fixed
 * `batchShape` (`[B, S, D]`, `[T, D]`, …; the last axis the features), written as
 * {@link exportMixtureOfExperts} writes its `MixtureOfExperts`, between a `Reshape` to `[T, D]` tokens and
 * one back.
 */
import * as tf from '@tensorflow/tfjs-core';
import { MoEArgumentError } from '@moekit/core';
import type { MoELayer } from '@moekit/layers';
import { encodeOnnxModel } from '../proto/encode-onnx-model.js';
import { OnnxGraph } from '../proto/onnx-graph.js';
import { KernelTrace } from '../trace/kernel-trace.js';
import { emitMixtureOfExperts } from './export-mixture-of-experts.js';
import type { SparseCombine } from './emit-sparse-experts.js';
import { checkBatchShapeOptions } from './check-batch-shape-options.js';

/** Options of {@link exportMoELayer}. */
export interface ExportMoELayerOptions {
  /** The input's full shape, fixed in the graph, features last (`[B, S, D]`): tfjs-layers' `batchInputShape`. */
  batchShape: readonly number[];
  /** Name of the graph input. Default `'x'`. */
  inputName?: string;
  /** Name of the graph output. Default `'y'`. */
  outputName?: string;
  /** How the experts' rows are summed into the output (see {@link SparseCombine}). Default `'concat'`. */
  sparseCombine?: SparseCombine;
}

const WHERE = 'exportMoELayer';
const OPTIONS: readonly (keyof ExportMoELayerOptions)[] = ['batchShape', 'inputName', 'outputName', 'sparseCombine'];

/**
 * Writes `layer`'s evaluation call (`layer.apply(x, { training: false })`) for inputs of `batchShape`
 * as ONNX model bytes: input `x` of `batchShape`, output `y` of the layer's output shape. Routing per
 * position only (`routeOver: 'position'`, the default).
 *
 * @example
 * ```ts
 * import { exportMoELayer } from '@moekit/onnx';
 *
 * const bytes = exportMoELayer(model.getLayer('moe') as MoELayer, { batchShape: [8, 128, 512] });
 * ```
 */
export function exportMoELayer(layer: MoELayer, options: ExportMoELayerOptions): Uint8Array {
  checkBatchShapeOptions(WHERE, options, OPTIONS, ', features last ([B, S, D])');
  if (layer.routeOver !== 'position') throw new MoEArgumentError(WHERE, 'routeOver', "'position' (the export routes per position)", `'${layer.routeOver}'`);
  const shape = [...options.batchShape];
  const width = shape[shape.length - 1]!;
  const numTokens = shape.slice(0, -1).reduce((a, b) => a * b, 1);
  const graph = new OnnxGraph(layer.name);
  const trace = new KernelTrace(graph);
  const input = graph.addInput(options.inputName ?? 'x', 'float32', shape);
  const x = tf.randomNormal([numTokens, width], 0, 1, 'float32', 1) as tf.Tensor2D; // any values: the trace records shapes and kernels
  try {
    trace.bind(x, graph.op('Reshape', [input, graph.constant('int64', [numTokens, width])]));
    const y = emitMixtureOfExperts(trace, layer.moe, x, { where: WHERE, prefix: `${layer.name}/experts`, ...(options.sparseCombine !== undefined ? { sparseCombine: options.sparseCombine } : {}) });
    const outputShape = layer.computeOutputShape(shape) as number[];
    graph.node('Reshape', [y, graph.constant('int64', outputShape)], {}, [options.outputName ?? 'y']);
    graph.addOutput(options.outputName ?? 'y', 'float32', outputShape);
  } finally {
    x.dispose();
  }
  return encodeOnnxModel(graph);
}
