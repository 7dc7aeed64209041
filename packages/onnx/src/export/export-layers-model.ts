/**
 * A whole tfjs-layers model as an ONNX model: its evaluation call (`model.apply(x, { training: false })`)
 * on inputs of one fixed `batchShape`, traced kernel by kernel through the converters (`Dense`,
 * activations, normalisations, …), except each `MoELayer` it meets, which is written by the MoE path
 * of {@link emitMixtureOfExperts}: the layer's call is intercepted, run unrecorded for its value
 * (`trace.paused`), and its output bound to the hand-written graph's (`trace.bind`).
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { MoEArgumentError } from '@moekit/core';
import { MoELayer } from '@moekit/layers';
import { encodeOnnxModel } from '../proto/encode-onnx-model.js';
import { OnnxGraph } from '../proto/onnx-graph.js';
import { KernelTrace } from '../trace/kernel-trace.js';
import { onnxDType } from '../trace/onnx-dtype.js';
import { emitMixtureOfExperts } from './export-mixture-of-experts.js';
import { checkBatchShapeOptions } from './check-batch-shape-options.js';

/** Options of {@link exportLayersModel}. */
export interface ExportLayersModelOptions {
  /** The input's full shape, fixed in the graph (`[B, S, D]`): tfjs-layers' `batchInputShape`. */
  batchShape: readonly number[];
  /** Name of the graph input. Default `'x'`. */
  inputName?: string;
  /** Name of the graph output. Default `'y'`. */
  outputName?: string;
}

const WHERE = 'exportLayersModel';
const OPTIONS: readonly (keyof ExportLayersModelOptions)[] = ['batchShape', 'inputName', 'outputName'];

type LayerCall = (inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>) => tf.Tensor | tf.Tensor[];

/**
 * Writes `model`'s evaluation call for inputs of `batchShape` as ONNX model bytes (one input, one
 * output). Every kernel outside the `MoELayer`s needs a converter (a missing one is an error naming
 * the kernel; `registerKernelConverter` adds one); each `MoELayer` (routing per position) is written as
 * {@link exportMoELayer} writes it.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { exportLayersModel } from '@moekit/onnx';
 *
 * const model = tf.sequential({ layers: [tf.layers.dense({ units: 64, inputShape: [32] }), moeLayer, tf.layers.dense({ units: 10 })] });
 * const bytes = exportLayersModel(model, { batchShape: [256, 32] });
 * ```
 */
export function exportLayersModel(model: tfl.LayersModel, options: ExportLayersModelOptions): Uint8Array {
  checkBatchShapeOptions(WHERE, options, OPTIONS);
  if (model.inputs.length !== 1 || model.outputs.length !== 1) {
    throw new MoEArgumentError(WHERE, 'model', 'a model with one input and one output', `${model.inputs.length} inputs, ${model.outputs.length} outputs`);
  }
  const shape = [...options.batchShape];
  const graph = new OnnxGraph(model.name);
  const trace = new KernelTrace(graph);
  const x = tf.randomNormal(shape, 0, 1, 'float32', 1); // any values: the trace records shapes and kernels
  const restore = model.layers.filter((layer): layer is MoELayer => layer instanceof MoELayer).map((layer) => intercept(trace, layer));
  try {
    trace.bind(x, graph.addInput(options.inputName ?? 'x', 'float32', shape));
    tf.tidy(() => {
      const y = trace.record(() => model.apply(x, { training: false }) as tf.Tensor);
      const outputName = options.outputName ?? 'y';
      graph.node('Identity', [trace.nameOf(y)], {}, [outputName]);
      graph.addOutput(outputName, onnxDType(y.dtype, WHERE), y.shape);
    });
  } finally {
    restore.forEach((undo) => undo());
    x.dispose();
  }
  return encodeOnnxModel(graph);
}

/** Replaces `layer.call` for the trace: the MoE path on the layer's input; returns the undo. */
function intercept(trace: KernelTrace, layer: MoELayer): () => void {
  if (layer.routeOver !== 'position') throw new MoEArgumentError(WHERE, `${layer.name}.routeOver`, "'position' (the export routes per position)", `'${layer.routeOver}'`);
  const graph = trace.graph;
  const own = Object.hasOwn(layer, 'call');
  const original = layer.call as LayerCall;
  const call: LayerCall = (inputs, kwargs) => {
    const input = Array.isArray(inputs) ? inputs[0]! : inputs;
    const output = trace.paused(() => original.call(layer, inputs, { ...kwargs, training: false })) as tf.Tensor; // the value the model goes on with
    const width = input.shape[input.rank - 1]!;
    const numTokens = input.size / width;
    const tokens = trace.paused(() => tf.reshape(input, [numTokens, width])) as tf.Tensor2D; // [T, D]
    trace.bind(tokens, graph.op('Reshape', [trace.nameOf(input), graph.constant('int64', [numTokens, width])]));
    const y = emitMixtureOfExperts(trace, layer.moe, tokens, { where: `${WHERE} (${layer.name})`, prefix: `${layer.name}/experts`, recording: true }); // [T, D']
    trace.bind(output, graph.op('Reshape', [y, graph.constant('int64', output.shape)]));
    return output;
  };
  (layer as unknown as { call: LayerCall }).call = call;
  return () => {
    if (own) (layer as unknown as { call: LayerCall }).call = original;
    else delete (layer as unknown as { call?: LayerCall }).call;
  };
}
