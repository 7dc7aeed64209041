// onnxruntime-web (its wasm execution provider) in Chromium runs what moekit exports, with moekit's values.
import * as tf from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-web';
import { describe, expect, it } from 'vitest';
import { encodeOnnxModel } from '../proto/encode-onnx-model.js';
import { OnnxGraph } from '../proto/onnx-graph.js';
import { KernelTrace } from '../trace/kernel-trace.js';

// the wasm binaries are served from the package's own folder; one thread (a page that is not
// cross-origin isolated has no SharedArrayBuffer)
ort.env.wasm.wasmPaths = '/node_modules/onnxruntime-web/dist/';
ort.env.wasm.numThreads = 1;

describe('onnxruntime-web in the browser', () => {
  it('runs a traced dense layer with the values tfjs computed', async () => {
    const x = tf.tensor2d([[1, -2, 3], [0.5, 4, -1]]);
    const w = tf.tensor2d([[1, 0], [0, 1], [-1, 2]]);
    const graph = new OnnxGraph('browser');
    const trace = new KernelTrace(graph);
    trace.bind(x, graph.addInput('x', 'float32', [2, 3]));
    const y = tf.tidy(() => trace.record(() => tf.relu(tf.matMul(x, w))));
    graph.node('Identity', [trace.nameOf(y)], {}, ['y']);
    graph.addOutput('y', 'float32', [2, 2]);
    const session = await ort.InferenceSession.create(encodeOnnxModel(graph), { executionProviders: ['wasm'] });
    const result = await session.run({ x: new ort.Tensor('float32', Float32Array.from(x.dataSync()), [2, 3]) });
    // by hand: relu([[-2, 4], [1.5, 2]]) = [[0, 4], [1.5, 2]] (webgl's relu may give -0: compare values, not bits)
    const ortValues = Array.from(result['y']!.data as Float32Array);
    const tfValues = Array.from(y.dataSync());
    [0, 4, 1.5, 2].forEach((v, i) => {
      expect(Math.abs(ortValues[i]! - v)).toBe(0);
      expect(Math.abs(tfValues[i]! - v)).toBe(0);
    });
    await session.release();
    tf.dispose([x, w, y]);
  });
});
