import * as tf from '@tensorflow/tfjs';
import { MoEArgumentError } from '@moekit/core';
import { expectNoLeakedTensors, expectTensorsClose } from '@moekit/core/testing';
import { describe, expect, it } from 'vitest';
import './register.js';
import { SoftMoEGate } from './soft-moe-gate.js';

// X = [[3, 4], [0, −2]], Φ = [[1, 0, 3], [0, 2, 4]] (Dg = 2, E·S = 3 slots)
const X = [[3, 4], [0, -2]];
const PHI = [[1, 0, 3], [0, 2, 4]];

function gateWith(normalize: boolean): SoftMoEGate {
  const gate = new SoftMoEGate({ numOutputs: 3, inputDim: 2, normalize });
  gate.trainableVariables[0]!.assign(tf.tensor2d(PHI));
  return gate;
}

describe('SoftMoEGate', () => {
  it('scores l2_normalize(X) · scale · l2_normalize(Φ) (hand-computed)', () => {
    const gate = gateWith(true);
    expect(gate.trainableVariables.map((v) => v.shape)).toEqual([[2, 3], []]);
    expect(gate.scale!.dataSync()[0]).toBe(1); // starts at 1, as vmoe's scale_init
    gate.scale!.assign(tf.scalar(2));
    const x = tf.tensor2d(X);
    const { logits } = gate.scores(x);
    // X̂ rows: [3, 4] / 5 = [0.6, 0.8]; [0, −2] / 2 = [0, −1]
    // Φ̂ columns: [1, 0]; [0, 2] / 2 = [0, 1]; [3, 4] / 5 = [0.6, 0.8]
    // 2 · X̂Φ̂ = 2 · [[0.6, 0.8, 0.36 + 0.64], [0, −1, −0.8]] (ε = 1e-6 under the roots moves them by < 1e-7)
    expectTensorsClose(logits, [[1.2, 1.6, 2], [0, -2, -1.6]], { atol: 1e-5 });
    // ∂ Σ logits / ∂ scale = Σ X̂Φ̂ = (0.6 + 0.8 + 1) + (0 − 1 − 0.8) = 0.6
    const grad = tf.variableGrads(() => tf.sum(gate.scores(x).logits) as tf.Scalar, [gate.scale!]);
    expect(grad.grads[gate.scale!.name]!.dataSync()[0]).toBeCloseTo(0.6, 5);
    tf.dispose([x, logits, grad.value, ...Object.values(grad.grads)]);
    gate.dispose();
  });

  it('scores the plain X·Φ without normalize, and holds no scale', () => {
    const gate = gateWith(false);
    expect(gate.scale).toBeUndefined();
    expect(gate.trainableVariables).toHaveLength(1);
    const x = tf.tensor2d(X);
    const { logits } = gate.scores(x);
    expectTensorsClose(logits, [[3, 8, 9 + 16], [0, -4, -8]]);
    tf.dispose([x, logits]);
    gate.dispose();
  });

  it('keeps a zero token finite (ε under the root) and builds lazily from the first input', () => {
    const gate = new SoftMoEGate({ numOutputs: 4, seed: 3 });
    expect(gate.trainableVariables).toEqual([]);
    const x = tf.tensor2d([[0, 0, 0], [1, 2, 3]]);
    const { logits } = gate.scores(x);
    expect(gate.trainableVariables.map((v) => v.shape)).toEqual([[3, 4], []]);
    const values = logits.arraySync();
    expect(values[0]).toEqual([0, 0, 0, 0]);
    expect(values[1]!.every((v) => Number.isFinite(v) && Math.abs(v) <= 1 + 1e-6)).toBe(true); // cosines times scale 1
    tf.dispose([x, logits]);
    gate.dispose();
  });

  it('rejects bad arguments, round-trips its config and leaks nothing', async () => {
    const bad: Array<[() => unknown, string]> = [
      [() => new SoftMoEGate({ numOutputs: 0 }), "SoftMoEGate: argument 'numOutputs' expected an integer >= 1, got 0"],
      [() => new SoftMoEGate({ numOutputs: 2, normalize: 'yes' as never }), "SoftMoEGate: argument 'normalize' expected a boolean, got 'yes'"],
      [() => new SoftMoEGate({ numOutputs: 2, kernelInitializer: 'he' as never }), "SoftMoEGate: argument 'kernelInitializer' expected one of 'zeros' | 'glorotUniform' | 'switch', got 'he'"],
      [() => new SoftMoEGate({ numOutputs: 2, scale: 2 } as never), "SoftMoEGate: argument 'scale' expected one of the known options"],
    ];
    for (const [fn, message] of bad) {
      expect(fn).toThrow(MoEArgumentError);
      expect(fn).toThrow(message);
    }
    const gate = gateWith(true);
    const wide = tf.zeros([1, 3]) as tf.Tensor2D;
    expect(() => gate.scores(wide)).toThrow("SoftMoEGate.scores: argument 'gateInput' expected width 2 (the router's inputDim), got shape [1, 3]");
    const copy = SoftMoEGate.fromConfig(SoftMoEGate, gate.getConfig()) as SoftMoEGate;
    expect(copy.getConfig()).toEqual({ numOutputs: 3, inputDim: 2, normalize: true, kernelInitializer: 'glorotUniform' });
    expect(tf.serialization.SerializationMap.getMap().classNameMap['SoftMoEGate']).toBeDefined();
    const x = tf.tensor2d(X);
    await expectNoLeakedTensors(() => gate.scores(x).logits.dispose());
    tf.dispose([x, wide]);
    gate.dispose();
    copy.dispose();
    expect(gate.trainableVariables).toEqual([]);
  });
});
