// onnxruntime-web (its wasm execution provider) in Chromium runs what moekit exports, with moekit's values.
import * as tf from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-web';
import { MixtureOfExperts } from '@moekit/core';
import { FeedForwardExperts } from '@moekit/experts-ffn';
import { TopKRouter } from '@moekit/router-topk';
import { describe, expect, it } from 'vitest';
import { exportMixtureOfExperts } from '../export/export-mixture-of-experts.js';
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

describe('an exported MixtureOfExperts in onnxruntime-web', () => {
  it('equals moe.apply at evaluation (top-2, capacity that drops), traced on webgl', async () => {
    const [T, D, E] = [32, 8, 4];
    const router = new TopKRouter({ inputDim: D, numExperts: E, k: 2, noise: 'none', kernelInitializer: 'glorotUniform', seed: 5 });
    const experts = new FeedForwardExperts({ numExperts: E, inputDim: D, hiddenDim: 16, activation: 'relu', seed: 6 });
    const moe = new MixtureOfExperts({ router, experts, capacity: { train: 1, eval: 1 } });
    const x = tf.randomNormal([T, D], 0, 1, 'float32', 7);
    const { output, auxLosses, metrics } = moe.apply(x, { training: false });
    expect(metrics.droppedCount).toBeGreaterThan(0);
    const session = await ort.InferenceSession.create(exportMixtureOfExperts(moe, { numTokens: T }), { executionProviders: ['wasm'] });
    const result = await session.run({ x: new ort.Tensor('float32', Float32Array.from(x.dataSync()), [T, D]) });
    const ortValues = result['y']!.data as Float32Array;
    const tfValues = output.dataSync();
    const difference = Math.max(...Array.from(tfValues, (v, i) => Math.abs(v - ortValues[i]!)));
    expect(difference).toBeLessThan(1e-5);
    await session.release();
    metrics.dispose();
    tf.dispose([x, output, ...Object.values(auxLosses)]);
    moe.dispose();
  });
});
