/**
 * Test helper: traces `fn` of named float32 inputs into an ONNX model, runs it in onnxruntime-node on
 * the same inputs, and returns tfjs's outputs beside ONNX Runtime's.
 */
import * as tf from '@tensorflow/tfjs-core';
import { encodeOnnxModel } from '../proto/encode-onnx-model.js';
import { OnnxGraph } from '../proto/onnx-graph.js';
import { KernelTrace } from '../trace/kernel-trace.js';
import { onnxDType } from '../trace/onnx-dtype.js';
import { runOnnx, type RunOutput } from './run-onnx.js';

/** What tfjs computed and what ONNX Runtime computed, output by output. */
export interface TracedRun {
  /** tfjs's outputs. */
  expected: RunOutput[];
  /** ONNX Runtime's outputs. */
  actual: RunOutput[];
  /** The graph, to look at its nodes. */
  graph: OnnxGraph;
}

/** Traces `fn(...inputs)` and runs the graph on the same inputs. Disposes what `fn` returns. */
export async function traceAndRun(inputs: tf.Tensor[], fn: (...xs: tf.Tensor[]) => tf.Tensor | tf.Tensor[]): Promise<TracedRun> {
  const graph = new OnnxGraph('test');
  const trace = new KernelTrace(graph);
  inputs.forEach((x, i) => trace.bind(x, graph.addInput(`in${i}`, onnxDType(x.dtype, 'traceAndRun'), x.shape)));
  const result = tf.tidy(() => trace.record(() => fn(...inputs)));
  const outputs = Array.isArray(result) ? result : [result];
  try {
    const names = outputs.map((t, i) => {
      const name = `out${i}`;
      graph.node('Identity', [trace.nameOf(t)], {}, [name]);
      graph.addOutput(name, onnxDType(t.dtype, 'traceAndRun'), t.shape);
      return name;
    });
    const feeds = Object.fromEntries(inputs.map((x, i) => [`in${i}`, { data: x.dataSync() as Float32Array | Int32Array | Uint8Array, dims: x.shape, type: x.dtype === 'bool' ? 'bool' as const : x.dtype === 'int32' ? 'int32' as const : 'float32' as const }]));
    const ran = await runOnnx(encodeOnnxModel(graph), feeds);
    return {
      expected: outputs.map((t) => ({ dims: [...t.shape], data: Array.from(t.dataSync() as ArrayLike<number>, Number) })),
      actual: names.map((n) => ran[n]!),
      graph,
    };
  } finally {
    tf.dispose(outputs);
  }
}

/** Largest absolute difference between two runs' values (Infinity when the shapes differ). */
export function maxAbsDifference(a: RunOutput, b: RunOutput): number {
  if (a.dims.join() !== b.dims.join() || a.data.length !== b.data.length) return Infinity;
  return a.data.reduce((m, v, i) => Math.max(m, Math.abs(v - b.data[i]!)), 0);
}
