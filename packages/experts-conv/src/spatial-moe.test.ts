import * as tf from '@tensorflow/tfjs';
import { componentConfig, fromComponentConfig, MoEArgumentError, type Component } from '@moekit/core';
import { expectNoLeakedTensors, expectTensorsClose } from '@moekit/core/testing';
import { describe, expect, it } from 'vitest';
import './register.js';
import { correctByErrorQuantile, rowQuantile } from './error-quantile.js';
import { partitionAgreement } from './partition-agreement.js';
import { correctByTolerance, routingClassificationLabels, routingClassificationLoss } from './routing-classification-loss.js';
import { SpatialGate } from './spatial-gate.js';
import { SpatialMoE } from './spatial-moe.js';

// A 1 × 2 grid, E = 3 experts, K = 2. Gate g: location 0 [0.1, 0.5, -0.2] → experts [1, 0];
// location 1 [0.9, -1, 0.3] → experts [0, 2]. Experts are 1 × 1 filters [2, 3, 5] on one channel;
// x = [1, 2], so the expert outputs are [2, 3, 5] at location 0 and [4, 6, 10] at location 1.
const G = [[[0.1, 0.5, -0.2], [0.9, -1, 0.3]]];
function setup(args: Partial<ConstructorParameters<typeof SpatialMoE>[0]> = {}) {
  const gate = new SpatialGate({ height: 1, width: 2, numExperts: 3, topK: 2, seed: 1 });
  gate.latent.assign(tf.tensor3d(G));
  const smoe = new SpatialMoE({ inputChannels: 1, numExperts: 3, topK: 2, kernelSize: 1, seed: 2, ...args });
  smoe.kernel.assign(tf.tensor4d([2, 3, 5], [1, 1, 1, 3]));
  return { gate, smoe, x: tf.tensor4d([1, 2], [1, 1, 2, 1]) };
}

describe('SpatialMoE (Dryden & Hoefler 2022)', () => {
  it('picks the top-K experts per location and scales each by its gate weight', () => {
    const { gate, smoe, x } = setup();
    const g = gate.routingWeights();
    const { output, expertIndex } = smoe.apply(x, g);
    expect(expertIndex.arraySync()).toEqual([[[1, 0], [0, 2]]]);
    // location 0: [0.5·3, 0.1·2] = [1.5, 0.2]; location 1: [0.9·4, 0.3·10] = [3.6, 3.0]
    expectTensorsClose(output, [[[[1.5, 0.2], [3.6, 3.0]]]], { atol: 1e-6 });
    const unweighted = setup({ weighted: false });
    const u = unweighted.smoe.apply(unweighted.x, g);
    expectTensorsClose(u.output, [[[[3, 2], [4, 10]]]], { atol: 1e-6 });
    const map = gate.gateMap();
    expect(map.arraySync()).toEqual([[1, 0]]);
    tf.dispose([g, output, expertIndex, u.output, u.expertIndex, x, unweighted.x, map]);
    [gate, smoe, unweighted.gate, unweighted.smoe].forEach((c) => c.dispose());
  });

  it('sends gradients to experts and gate only where an expert was selected', () => {
    const { gate, smoe, x } = setup();
    // L = Σ y: ∂L/∂w_e = Σ_{selected} g·x: e0 = 0.1·1 + 0.9·2 = 1.9, e1 = 0.5·1, e2 = 0.3·2;
    // ∂L/∂g = expert output where selected: location 0 [2, 3, 0], location 1 [4, 0, 10]
    const { grads } = tf.variableGrads(() => {
      const { output, expertIndex } = smoe.apply(x, gate.routingWeights());
      expertIndex.dispose();
      return tf.sum(output) as tf.Scalar;
    }, [smoe.kernel, gate.latent]);
    expectTensorsClose(grads[smoe.kernel.name]!, [[[[1.9, 0.5, 0.6]]]], { atol: 1e-5 });
    expectTensorsClose(grads[gate.latent.name]!, [[[2, 3, 0], [4, 0, 10]]], { atol: 1e-5 });
    tf.dispose([grads, x]);
    const blocked = setup({ blockGateGradient: true });
    const b = tf.variableGrads(() => {
      const { output, expertIndex } = blocked.smoe.apply(blocked.x, blocked.gate.routingWeights());
      expertIndex.dispose();
      return tf.sum(output) as tf.Scalar;
    }, [blocked.smoe.kernel, blocked.gate.latent]);
    expectTensorsClose(b.grads[blocked.gate.latent.name]!, [[[0, 0, 0], [0, 0, 0]]], { atol: 0 });
    tf.dispose([b.grads, blocked.x]);
    [gate, smoe, blocked.gate, blocked.smoe].forEach((c) => c.dispose());
  });

  it('damps the expert gradient where the error is above the per-sample quantile (§2.3)', () => {
    const { gate, smoe, x } = setup({ dampingFactor: 0, errorQuantile: 0.7 });
    const c = tf.tensor4d([1, 1, 1, 10], [1, 1, 2, 2]);
    // dy = [1, 1, 1, 10]; |dy|·N/2 = [2, 2, 2, 20]; 0.7-quantile at position 2.1 → 2 + 0.1·18 = 3.8:
    // only location 1's second choice (expert 2) is wrong, so its 10·0.3·2 = 6 is damped to 0.
    // The gate's gradient is not damped: location 1 [4, 0, 10·10].
    const { grads } = tf.variableGrads(() => {
      const { output, expertIndex } = smoe.apply(x, gate.routingWeights(), { training: true });
      expertIndex.dispose();
      return tf.sum(tf.mul(output, c)) as tf.Scalar;
    }, [smoe.kernel, gate.latent]);
    expectTensorsClose(grads[smoe.kernel.name]!, [[[[1.9, 0.5, 0]]]], { atol: 1e-5 });
    expectTensorsClose(grads[gate.latent.name]!, [[[2, 3, 0], [4, 0, 100]]], { atol: 1e-4 });
    tf.dispose([grads, x, c]);
    gate.dispose();
    smoe.dispose();
  });

  it('rejects K > E, an even kernel, wrong channels and routing weights of the wrong shape, by name', () => {
    expect(() => new SpatialMoE({ inputChannels: 1, numExperts: 2, topK: 3 })).toThrow("SpatialMoE: argument 'topK' expected at most numExperts = 2");
    expect(() => new SpatialMoE({ inputChannels: 1, numExperts: 2, kernelSize: 2 })).toThrow(MoEArgumentError);
    const { gate, smoe, x } = setup();
    const g = gate.routingWeights();
    expect(() => smoe.apply(tf.zeros([1, 1, 2, 2]), g)).toThrow("SpatialMoE.apply: argument 'x' expected 1 channels (inputChannels)");
    expect(() => smoe.apply(x, tf.zeros([1, 3, 3]))).toThrow("SpatialMoE.apply: argument 'routingWeights' expected shape [1, 2, 3] or [1, 1, 2, 3]");
    expect(() => new SpatialGate({ height: 0, width: 2, numExperts: 3 })).toThrow(MoEArgumentError);
    tf.dispose([g, x]);
    gate.dispose();
    smoe.dispose();
  });

  it('leaks no tensor on a training step with noise, softmax and damping', async () => {
    const gate = new SpatialGate({ height: 4, width: 4, numExperts: 3, normalize: 'softmax', noiseStdScale: 1, seed: 3 });
    const smoe = new SpatialMoE({ inputChannels: 2, numExperts: 3, dampingFactor: 0.5, seed: 4 });
    const x = tf.randomNormal([2, 4, 4, 2], 0, 1, 'float32', 5);
    const optimizer = tf.train.adam(0.01);
    await expectNoLeakedTensors(() => {
      optimizer.minimize(() => {
        const { output, expertIndex } = smoe.apply(x, gate.routingWeights({ training: true }), { training: true });
        const labels = routingClassificationLabels(correctByErrorQuantile(output), expertIndex, 3);
        return tf.add(tf.mean(tf.square(output)), routingClassificationLoss(gate.latent, labels)) as tf.Scalar;
      });
    });
    const w = gate.routingWeights();
    expectTensorsClose(tf.sum(w, -1), tf.ones([4, 4]), { atol: 1e-5 }); // softmax over experts
    const bound = Math.sqrt(3 * 3 / 1);
    expect(new SpatialGate({ height: 8, width: 8, numExperts: 3, seed: 1 }).latent.dataSync().every((v) => Math.abs(v) <= bound)).toBe(true);
    tf.dispose([x, w]);
    optimizer.dispose();
    gate.dispose();
    smoe.dispose();
  });

  it('saves and loads through the registry; releases every variable on dispose', () => {
    const before = tf.memory().numTensors;
    const components: Component[] = [
      new SpatialGate({ height: 3, width: 5, numExperts: 4, topK: 2, normalize: 'softmax', absoluteValue: true, noiseStdScale: 0.5, seed: 1 }),
      new SpatialMoE({ inputChannels: 2, numExperts: 4, topK: 2, weighted: false, dampingFactor: 0, seed: 2 }),
    ];
    for (const original of components) {
      const saved = componentConfig(original, 'test', 'component');
      expect(saved.package).toBe('@moekit/experts-conv');
      const loaded = fromComponentConfig<Component>(JSON.parse(JSON.stringify(saved)), 'test', 'component');
      expect(loaded.getConfig()).toEqual(original.getConfig());
      expect(loaded.namedVariables().map(([n, v]) => [n, v.shape])).toEqual(original.namedVariables().map(([n, v]) => [n, v.shape]));
      loaded.dispose();
    }
    expect(components.map((c) => c.namedVariables().map(([n, v]) => `${n} [${v.shape}]`))).toEqual([['latent [3,5,4]'], ['kernel [3,3,2,4]']]);
    components.forEach((c) => c.dispose());
    expect(tf.memory().numTensors).toBe(before);
    expect(() => (components[0] as SpatialGate).routingWeights()).toThrow('SpatialGate.routingWeights: this SpatialGate was disposed');
  });
});

describe('routing-classification loss (Dryden & Hoefler 2022, §2.2)', () => {
  it('labels: selected experts by correctness, the unselected share (K − #correct)/(E − K); BCE with logits', () => {
    const expertIndex = tf.tensor3d([[[1, 0], [0, 2]]], [1, 2, 2], 'int32');
    const correct = tf.tensor4d([[[[1, 0], [1, 1]]]]);
    const labels = routingClassificationLabels(correct, expertIndex, 3);
    // location 0: expert 1 right (1), expert 0 wrong (0), one wrong → expert 2 gets 1/(3 − 2) = 1;
    // location 1: experts 0 and 2 right, none wrong → expert 1 gets 0
    expectTensorsClose(labels, [[[[0, 1, 1], [1, 0, 1]]]], { atol: 0 });
    // mean of softplus(g) − g·z over the 6 entries:
    // [0.74440, 0.47408, 0.79814, 0.34115, 0.31326, 0.55436] → 0.537564
    const loss = routingClassificationLoss(tf.tensor3d(G), labels);
    expectTensorsClose(loss, 0.537564, { atol: 1e-5 });
    expect(() => routingClassificationLabels(correct, expertIndex, 2)).toThrow("routingClassificationLabels: argument 'numExperts' expected more than K = 2");
    expect(() => routingClassificationLoss(tf.zeros([2, 2, 3]), labels)).toThrow("routingClassificationLoss: argument 'routingWeights'");
    tf.dispose([expertIndex, correct, labels, loss]);
  });

  it('correctness by error quantile and by tolerance; the row quantile interpolates as torch.quantile', () => {
    const q = rowQuantile(tf.tensor2d([[4, 1, 3, 2], [0, 0, 0, 8]]), 0.7); // position 2.1: 3 + 0.1·1; 0 + 0.1·8
    expectTensorsClose(q, [3.1, 0.8], { atol: 1e-5 });
    const c = correctByErrorQuantile(tf.tensor2d([[4, -1, 3, 2]]), 0.7); // |e| ≤ 3.1 + 1e-5
    expectTensorsClose(c, [[0, 1, 1, 1]], { atol: 0 });
    const t = correctByTolerance(tf.tensor1d([1, 2]), tf.tensor1d([1, 2.5]), 0.1);
    expectTensorsClose(t, [1, 0], { atol: 0 });
    tf.dispose([q, c, t]);
  });

  it('partition agreement is the best one-to-one relabelling', () => {
    expect(partitionAgreement([1, 1, 0, 0], [0, 0, 1, 1])).toBe(1);
    expect(partitionAgreement([0, 0, 0, 1], [0, 1, 1, 1])).toBe(0.5);
    expect(partitionAgreement([2, 2, 0, 1], [0, 0, 1, 1])).toBe(0.75);
    expect(() => partitionAgreement([0], [0, 1])).toThrow("partitionAgreement: argument 'learned'");
  });
});
