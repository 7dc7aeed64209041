import * as tf from '@tensorflow/tfjs-core';
import { expectNoLeakedTensors } from '@moekit/core/testing';
import { describe, expect, it } from 'vitest';
import { OnnxGraph } from '../proto/onnx-graph.js';
import { maxAbsDifference, traceAndRun } from '../testing/trace-and-run.js';
import { registerKernelConverter } from './kernel-converter.js';
import { KernelTrace } from './kernel-trace.js';

describe('KernelTrace', () => {
  it('records a dense layer as ONNX nodes, weights as initializers, and ONNX Runtime computes the same', async () => {
    const x = tf.tensor2d([[1, -2, 3], [0.5, 4, -1]]);
    const w = tf.variable(tf.tensor2d([[1, 0], [0, 1], [-1, 2]]), false, 'dense/kernel');
    const b = tf.tensor1d([0.25, -0.5]);
    await expectNoLeakedTensors(async () => {
      const run = await traceAndRun([x], (t) => tf.mul(tf.relu(tf.add(tf.matMul(t, w), b)), tf.scalar(2)));
      // by hand: x·w = [[-2, 4], [1.5, 2]] + b = [[-1.75, 3.5], [1.75, 1.5]] → relu ·2 = [[0, 7], [3.5, 3]]
      expect(run.expected[0]).toEqual({ dims: [2, 2], data: [0, 7, 3.5, 3] });
      expect(maxAbsDifference(run.actual[0]!, run.expected[0]!)).toBe(0);
      expect([...run.graph.initializers.keys()]).toContain('dense/kernel');
      expect(run.graph.nodes.map((n) => n.opType)).toContain('MatMul');
    });
    tf.dispose([x, w, b]);
  });

  it('refuses a host read of a value computed from the input, naming it, and restores the engine', () => {
    const graph = new OnnxGraph();
    const trace = new KernelTrace(graph);
    const x = tf.tensor1d([1, 2]);
    trace.bind(x, graph.addInput('x', 'float32', [2]));
    const weight = tf.tensor1d([3, 4]);
    expect(() => tf.tidy(() => trace.record(() => {
      weight.dataSync(); // a constant: allowed
      return tf.add(x, tf.scalar(Number(tf.exp(x).dataSync()[0])));
    }))).toThrow(/the traced function.*no host read of a value computed from the input.*dataSync/);
    expect(Object.hasOwn(tf.engine(), 'runKernel')).toBe(false);
    expect(Object.hasOwn(tf.engine(), 'readSync')).toBe(false);
    tf.dispose([x, weight]);
  });

  it('names a kernel without a converter, and takes a registered one', () => {
    const graph = new OnnxGraph();
    const trace = new KernelTrace(graph);
    const x = tf.tensor1d([1, 2]);
    trace.bind(x, graph.addInput('x', 'float32', [2]));
    expect(() => tf.tidy(() => trace.record(() => tf.atan(x)))).toThrow(/kernel.*an ONNX converter.*'Atan'/);
    registerKernelConverter('Atan', ({ graph: g, inputs }) => [g.op('Atan', [inputs['x']!])]);
    tf.tidy(() => trace.record(() => tf.atan(x)));
    expect(graph.nodes.at(-1)!.opType).toBe('Atan');
    x.dispose();
  });
});
