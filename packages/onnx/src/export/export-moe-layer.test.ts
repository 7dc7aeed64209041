import * as tf from '@tensorflow/tfjs';
import { expectNoLeakedTensors } from '@moekit/core/testing';
import { FeedForwardExperts } from '@moekit/experts-ffn';
import { MoELayer } from '@moekit/layers';
import { TopKRouter } from '@moekit/router-topk';
import { describe, expect, it } from 'vitest';
import { runOnnx } from '../testing/run-onnx.js';
import { maxAbsDifference } from '../testing/trace-and-run.js';
import { exportMoELayer } from './export-moe-layer.js';

const B = 4, S = 8, D = 8, H = 16, E = 4;

describe('exportMoELayer', () => {
  it('writes a MoELayer of a model for [B, S, D] inputs: ONNX Runtime equals the layer at evaluation', async () => {
    const layer = new MoELayer({ router: new TopKRouter({ numExperts: E, k: 2, seed: 1, kernelInitializer: 'glorotUniform' }), experts: new FeedForwardExperts({ numExperts: E, hiddenDim: H, gated: 'swiglu', seed: 3 }), capacity: { eval: 0.75 }, dropWarning: 1, name: 'moe' });
    const model = tf.sequential({ layers: [tf.layers.inputLayer({ batchInputShape: [B, S, D] }), layer] });
    const x = tf.randomNormal([B, S, D], 0, 1, 'float32', 11);
    await expectNoLeakedTensors(async () => {
      const expected = model.predict(x) as tf.Tensor; // [B, S, D]
      expect(layer.moe.lastMetrics!.droppedCount).toBeGreaterThan(0);
      const bytes = exportMoELayer(layer, { batchShape: [B, S, D] });
      const ran = await runOnnx(bytes, { x: { data: x.dataSync() as Float32Array, dims: [B, S, D] } });
      expect(ran['y']!.dims).toEqual([B, S, D]);
      expect(maxAbsDifference(ran['y']!, { dims: [B, S, D], data: Array.from(expected.dataSync()) })).toBeLessThan(1e-5);
      expected.dispose();
    });
    x.dispose();
    model.dispose();
  });

  it('names a bad batchShape and a layer routed per sample', () => {
    const layer = new MoELayer({ router: new TopKRouter({ numExperts: E, seed: 1, kernelInitializer: 'glorotUniform' }), experts: new FeedForwardExperts({ numExperts: E, hiddenDim: H }), routeOver: 'sample', name: 'per_sample' });
    expect(() => exportMoELayer(layer, { batchShape: [8] })).toThrow("exportMoELayer: argument 'batchShape' expected the full input shape, rank >= 2, positive integers, features last ([B, S, D]), got [8]");
    expect(() => exportMoELayer(layer, { batchShape: [2, 8, 8] })).toThrow("exportMoELayer: argument 'routeOver' expected 'position' (the export routes per position), got 'sample'");
    layer.releaseComponents();
  });
});
