import * as tf from '@tensorflow/tfjs';
import { expectNoLeakedTensors } from '@moekit/core/testing';
import { FeedForwardExperts } from '@moekit/experts-ffn';
import { MoELayer } from '@moekit/layers';
import { TopKRouter } from '@moekit/router-topk';
import { describe, expect, it } from 'vitest';
import { runOnnx } from '../testing/run-onnx.js';
import { maxAbsDifference } from '../testing/trace-and-run.js';
import { exportLayersModel } from './export-layers-model.js';

const B = 4, S = 8, D = 8, H = 16, E = 4;

describe('exportLayersModel', () => {
  it('traces Dense layers around a MoELayer and writes the MoE by hand: ONNX Runtime equals predict', async () => {
    const moe = new MoELayer({ router: new TopKRouter({ numExperts: E, k: 2, seed: 1, kernelInitializer: 'glorotUniform' }), experts: new FeedForwardExperts({ numExperts: E, hiddenDim: H, seed: 3 }), capacity: { eval: 0.75 }, dropWarning: 1, name: 'moe' });
    const model = tf.sequential({
      layers: [
        tf.layers.dense({ units: D, activation: 'relu', batchInputShape: [B, S, D], kernelInitializer: tf.initializers.glorotNormal({ seed: 5 }) }),
        moe,
        tf.layers.dense({ units: 3, kernelInitializer: tf.initializers.glorotNormal({ seed: 6 }) }),
      ],
    });
    const x = tf.randomNormal([B, S, D], 0, 1, 'float32', 11);
    await expectNoLeakedTensors(async () => {
      const expected = model.predict(x) as tf.Tensor; // [B, S, 3]
      expect(moe.moe.lastMetrics!.droppedCount).toBeGreaterThan(0);
      const bytes = exportLayersModel(model, { batchShape: [B, S, D] });
      const ran = await runOnnx(bytes, { x: { data: x.dataSync() as Float32Array, dims: [B, S, D] } });
      expect(ran['y']!.dims).toEqual([B, S, 3]);
      expect(maxAbsDifference(ran['y']!, { dims: [B, S, 3], data: Array.from(expected.dataSync()) })).toBeLessThan(1e-5);
      expected.dispose();
    });
    expect(Object.hasOwn(moe, 'call')).toBe(false); // the interception is undone
    x.dispose();
    model.dispose();
  });

  it('names a bad option', () => {
    const model = tf.sequential({ layers: [tf.layers.dense({ units: 2, inputShape: [3] })] });
    expect(() => exportLayersModel(model, { batchShape: [2, 3], inputShape: [3] } as never)).toThrow(/exportLayersModel: argument 'inputShape' expected one of the options batchShape, inputName, outputName/);
    model.dispose();
  });
});
