import * as tf from '@tensorflow/tfjs';
import { componentConfig, fromComponentConfig, MixtureOfExperts, MoEDisposedError } from '@moekit/core';
import { expectNoLeakedTensors, expectTensorsClose, LinearTopKRouter } from '@moekit/core/testing';
import { describe, expect, it } from 'vitest';
import './register.js';
import { FeedForwardExperts, type FeedForwardExpertsArgs } from './feed-forward-experts.js';
import { SharedExpert } from './shared-expert.js';
import { MoELayer } from '@moekit/layers';

// one expert, x [2, 2]; W1 [[1, -1], [2, 0.5]], V [[0.5, 1], [-1, 2]], W2 [[1, 2], [3, -1]], no bias
const xs = [[1, -2], [0.5, 3]];
function bank(args: Partial<FeedForwardExpertsArgs>): FeedForwardExperts {
  const b = new FeedForwardExperts({ numExperts: 1, inputDim: 2, hiddenDim: 2, useBias: false, ...args });
  b.weights.w1.assign(tf.tensor3d([[[1, -1], [2, 0.5]]]));
  b.weights.w2.assign(tf.tensor3d([[[1, 2], [3, -1]]]));
  b.weights.v?.assign(tf.tensor3d([[[0.5, 1], [-1, 2]]]));
  return b;
}

describe('FeedForwardExperts', () => {
  const cases: [string, Partial<FeedForwardExpertsArgs>, number[][]][] = [
    // numpy: h = x @ W1; relu(h) @ W2
    ['relu', { activation: 'relu' }, [[0, 0], [9.5, 12]]],
    // numpy: sw = h / (1 + exp(-h)); (sw * (x @ V)) @ W2
    ['SwiGLU', { gated: 'swiglu' }, [[1.789959, -1.426606], [-3.592524, -40.448213]]],
    // numpy: g = 0.5 h (1 + erf(h / √2)); (g * (x @ V)) @ W2
    ['GEGLU', { gated: 'geglu' }, [[0.399378, -0.156749], [-1.468777, -41.218741]]],
  ];
  for (const [name, args, expected] of cases) {
    it(`computes ${name} (numpy values), padded and grouped alike`, () => {
      const b = bank(args);
      const x = tf.tensor2d(xs);
      const padded = b.apply(tf.expandDims(x, 0));
      const grouped = b.applyGrouped(x, [2]);
      expectTensorsClose(tf.squeeze(padded, [0]), expected, { atol: 2e-5, rtol: 1e-5 });
      expectTensorsClose(grouped, expected, { atol: 2e-5, rtol: 1e-5 });
      tf.dispose([x, padded, grouped]);
      b.dispose();
    });
  }

  it('gives each expert its own weights, drawn with tfjs-layers initialisers and a seed', () => {
    const a = new FeedForwardExperts({ numExperts: 3, inputDim: 4, hiddenDim: 5, seed: 1 });
    const b = new FeedForwardExperts({ numExperts: 3, inputDim: 4, hiddenDim: 5, seed: 1 });
    expect(Array.from(a.weights.w1.dataSync())).toEqual(Array.from(b.weights.w1.dataSync()));
    const [e0, e1] = tf.unstack(a.weights.w1);
    expect(Array.from(e0!.dataSync())).not.toEqual(Array.from(e1!.dataSync()));
    const limit = Math.sqrt(6 / (4 + 5)); // Glorot with one expert's fans
    expect(Math.max(...Array.from(a.weights.w1.dataSync(), Math.abs))).toBeLessThanOrEqual(limit);
    expect(a.trainableVariables.map((v) => v.shape)).toEqual([[3, 4, 5], [3, 1, 5], [3, 5, 4], [3, 1, 4]]);
    expect(a.parametersPerExpert).toBe(4 * 5 + 5 + 5 * 4 + 4);
    tf.dispose([e0!, e1!]);
    a.dispose();
    b.dispose();
  });

  it('padded and grouped execution agree for several experts, forward and backward', () => {
    const b = new FeedForwardExperts({ numExperts: 3, inputDim: 4, hiddenDim: 6, outputDim: 2, gated: 'swiglu', seed: 2 });
    const rows = tf.randomNormal([3, 2, 4], 0, 1, 'float32', 3);
    const padded = tf.grads((r: tf.Tensor) => tf.sum(tf.square(b.apply(r))))([rows]);
    const grouped = tf.grads((r: tf.Tensor) => tf.sum(tf.square(b.applyGrouped(tf.reshape(r, [6, 4]), [2, 2, 2]))))([rows]);
    expectTensorsClose(grouped[0]!, padded[0]!, { atol: 1e-5 });
    tf.dispose([rows, ...padded, ...grouped]);
    b.dispose();
  });

  it('is exactly a dense FFN with one expert, k = 1, no drops: forward and gradients', () => {
    const router = new LinearTopKRouter({ inputDim: 4, numExperts: 1, k: 1 }); // softmax over one expert: gate 1
    const experts = new FeedForwardExperts({ numExperts: 1, inputDim: 4, hiddenDim: 8, activation: 'gelu', seed: 4 });
    tf.tidy(() => experts.weights.b1!.assign(tf.randomNormal([1, 1, 8], 0, 0.1, 'float32', 5)));
    const x = tf.randomNormal([10, 4], 0, 1, 'float32', 6);
    const { w1, b1, w2, b2 } = experts.weights;
    const dense = (input: tf.Tensor) => {
      const h = tf.add(tf.matMul(input as tf.Tensor2D, tf.squeeze(w1, [0]) as tf.Tensor2D), tf.squeeze(b1!, [0]));
      const g = tf.mul(tf.mul(h, 0.5), tf.add(1, tf.erf(tf.mul(h, Math.SQRT1_2))));
      return tf.add(tf.matMul(g as tf.Tensor2D, tf.squeeze(w2, [0]) as tf.Tensor2D), tf.squeeze(b2!, [0]));
    };
    for (const layout of ['padded', 'grouped'] as const) {
      const moe = new MixtureOfExperts({ router, experts, capacity: { train: 0 }, layout });
      const viaMoE = tf.variableGrads(() => tf.sum(tf.square(moe.apply(x, { training: true }).output)) as tf.Scalar, experts.trainableVariables);
      const viaDense = tf.variableGrads(() => tf.sum(tf.square(dense(x))) as tf.Scalar, experts.trainableVariables);
      expectTensorsClose(viaMoE.value, viaDense.value, { atol: 1e-4, rtol: 1e-5 });
      for (const v of experts.trainableVariables) expectTensorsClose(viaMoE.grads[v.name]!, viaDense.grads[v.name]!, { atol: 1e-4, rtol: 1e-4 });
      const outMoE = moe.apply(x, { training: false });
      const outDense = dense(x);
      expectTensorsClose(outMoE.output, outDense, { atol: 1e-5 });
      tf.dispose([viaMoE.value, viaDense.value, ...Object.values(viaMoE.grads), ...Object.values(viaDense.grads), outMoE.output, outDense, ...Object.values(outMoE.auxLosses)]);
    }
    x.dispose();
    router.dispose();
    experts.dispose();
  });

  it('rejects bad arguments and inputs by name, round-trips its config, leaks nothing', async () => {
    expect(() => new FeedForwardExperts({ numExperts: 2, inputDim: 4, hiddenDim: 0 })).toThrow("FeedForwardExperts: argument 'hiddenDim' expected an integer >= 1, got 0");
    expect(() => new FeedForwardExperts({ numExperts: 2, inputDim: 4, hiddenDim: 3, activation: 'tanh' as never })).toThrow("FeedForwardExperts: argument 'activation' expected one of 'relu' | 'gelu' | 'swish', got 'tanh'");
    expect(() => new FeedForwardExperts({ numExperts: 2, inputDim: 4, hiddenDim: 3, units: 3 } as never)).toThrow("FeedForwardExperts: argument 'units' expected one of the known options");
    const b = new FeedForwardExperts({ numExperts: 2, inputDim: 4, hiddenDim: 3, seed: 1 });
    const wrong = tf.zeros([2, 5, 3]);
    expect(() => b.apply(wrong)).toThrow("FeedForwardExperts.apply: argument 'dispatched' expected last dim 4 (inputDim), got shape [2, 5, 3]");
    const rows = tf.zeros([5, 4]);
    expect(() => b.applyGrouped(rows, [2, 2])).toThrow("FeedForwardExperts.applyGrouped: argument 'rows' expected shape [4, ..., 4] with 2 group sizes, got shape [5, 4] with 2");
    const copy = FeedForwardExperts.fromConfig(FeedForwardExperts, b.getConfig()) as FeedForwardExperts;
    expect(copy.getConfig()).toEqual(b.getConfig());
    expect(tf.serialization.SerializationMap.getMap().classNameMap['FeedForwardExperts']).toBeDefined();
    const buffers = tf.randomNormal([2, 3, 4]);
    await expectNoLeakedTensors(() => {
      b.apply(buffers).dispose();
      tf.tidy(() => {
        b.applyGrouped(tf.reshape(buffers, [6, 4]), [1, 5]);
      });
    });
    tf.dispose([wrong, rows, buffers]);
    b.dispose();
    copy.dispose();
  });
});

describe('FeedForwardExperts with an empty expert', () => {
  it('trains when an expert receives no rows (its weights get zero gradient)', () => {
    const b = new FeedForwardExperts({ numExperts: 3, inputDim: 4, hiddenDim: 5, seed: 9 });
    const rows = tf.randomNormal([6, 4], 0, 1, 'float32', 10);
    const { grads } = tf.variableGrads(() => tf.sum(tf.square(b.applyGrouped(rows, [4, 0, 2]))) as tf.Scalar, b.trainableVariables);
    const [, middle] = tf.unstack(grads[b.weights.w1.name]!);
    expect(Array.from(middle!.dataSync()).every((v) => v === 0)).toBe(true);
    tf.dispose([rows, middle!, ...Object.values(grads)]);
    b.dispose();
  });
});

describe('FeedForwardExperts without inputDim', () => {
  it('builds from the input width with the same seeds in the same order as with inputDim', () => {
    const eager = new FeedForwardExperts({ numExperts: 3, inputDim: 4, hiddenDim: 5, gated: 'swiglu', seed: 7 });
    const lazy = new FeedForwardExperts({ numExperts: 3, hiddenDim: 5, gated: 'swiglu', seed: 7 });
    expect(lazy.trainableVariables).toEqual([]);
    expect(lazy.outputFeatureShape([4])).toEqual([4]); // D' = D until outputDim is given
    expect(() => lazy.weights).toThrow("FeedForwardExperts.weights: argument 'this' expected a built FeedForwardExperts");
    lazy.build([4]);
    lazy.build([9]); // a no-op once built
    expect(lazy.namedVariables().map(([name, v]) => [name, v.shape])).toEqual([['w1', [3, 4, 5]], ['b1', [3, 1, 5]], ['v', [3, 4, 5]], ['bv', [3, 1, 5]], ['w2', [3, 5, 4]], ['b2', [3, 1, 4]]]);
    eager.trainableVariables.forEach((v, i) => expect(Array.from(lazy.trainableVariables[i]!.dataSync())).toEqual(Array.from(v.dataSync())));
    expect(lazy.getConfig()).not.toHaveProperty('inputDim'); // saved lazy: rebuilt from the next input
    eager.dispose();
    lazy.dispose();
  });

  it('is built by MixtureOfExperts.apply with the per-token width [D], as the eager bank', () => {
    const x = tf.randomNormal([6, 4], 0, 1, 'float32', 8);
    const outputs = [4, undefined].map((inputDim) => {
      const router = new LinearTopKRouter({ inputDim: 4, numExperts: 2, k: 1, seed: 3 });
      const experts = new FeedForwardExperts({ numExperts: 2, ...(inputDim !== undefined ? { inputDim } : {}), hiddenDim: 3, seed: 2 });
      const moe = new MixtureOfExperts({ router, experts, capacity: { train: 0, eval: 0 } });
      const { output, auxLosses } = moe.apply(x, { training: false });
      expect(experts.weights.w1.shape).toEqual([2, 4, 3]);
      tf.dispose(Object.values(auxLosses));
      router.dispose();
      experts.dispose();
      return output;
    });
    expectTensorsClose(outputs[1]!, outputs[0]!, { atol: 0 });
    tf.dispose([x, ...outputs]);
  });
});

describe('FeedForwardExperts and SharedExpert as components', () => {
  it('save and load through the registry (fresh weights, same config)', () => {
    const bank = new FeedForwardExperts({ numExperts: 2, inputDim: 4, hiddenDim: 3, gated: 'geglu', useBias: false, seed: 1 });
    const loadedBank = fromComponentConfig<FeedForwardExperts>(componentConfig(bank, 'test', 'experts'), 'test', 'experts');
    expect(loadedBank).toBeInstanceOf(FeedForwardExperts);
    expect(loadedBank.getConfig()).toEqual({ numExperts: 2, inputDim: 4, hiddenDim: 3, outputDim: 4, activation: 'relu', gated: 'geglu', useBias: false, kernelInitializer: 'glorotUniform', seed: 1 });
    expect(componentConfig(bank, 'test', 'experts').package).toBe('@moekit/experts-ffn');
    const shared = new SharedExpert({ hiddenDim: 3, activation: 'gelu', seed: 2 });
    const loadedShared = fromComponentConfig<SharedExpert>(componentConfig(shared, 'test', 'shared'), 'test', 'shared');
    expect(loadedShared).toBeInstanceOf(SharedExpert);
    expect(loadedShared.getConfig()).toEqual(shared.getConfig());
    expect(shared.getConfig()).toEqual({ hiddenDim: 3, activation: 'gelu', gated: 'none', useBias: true, kernelInitializer: 'glorotUniform', seed: 2 });
    for (const c of [bank, loadedBank, shared, loadedShared]) c.dispose();
  });

  it('SharedExpert builds lazily, names its weights, rejects numExperts', () => {
    expect(() => new SharedExpert({ inputDim: 4, hiddenDim: 3, numExperts: 2 } as never)).toThrow("SharedExpert: argument 'numExperts' expected absent (a shared expert is one FFN), got 2");
    expect(() => new SharedExpert({ hiddenDim: 0 })).toThrow("SharedExpert: argument 'hiddenDim' expected an integer >= 1, got 0");
    const eager = new SharedExpert({ inputDim: 4, hiddenDim: 3, seed: 5 });
    const lazy = new SharedExpert({ hiddenDim: 3, seed: 5 });
    const tokens = tf.randomNormal([5, 4], 0, 1, 'float32', 6);
    const a = eager.apply(tokens, { training: false });
    const b = lazy.apply(tokens, { training: false }); // built from [T, 4]
    expectTensorsClose(b, a, { atol: 0 });
    expect(lazy.namedVariables().map(([name, v]) => [name, v.shape])).toEqual([['ffn/w1', [1, 4, 3]], ['ffn/b1', [1, 1, 3]], ['ffn/w2', [1, 3, 4]], ['ffn/b2', [1, 1, 4]]]);
    tf.dispose([tokens, a, b]);
    eager.dispose();
    lazy.dispose();
  });

  it('throws MoEDisposedError once disposed, and releases every weight', () => {
    const bank = new FeedForwardExperts({ numExperts: 2, inputDim: 4, hiddenDim: 3 });
    const shared = new SharedExpert({ inputDim: 4, hiddenDim: 3 });
    const before = tf.memory().numTensors;
    bank.dispose();
    shared.dispose();
    expect(tf.memory().numTensors).toBe(before - 8); // w1, b1, w2, b2 each
    const buffers = tf.zeros([2, 1, 4]);
    const tokens = tf.zeros([1, 4]);
    expect(() => bank.apply(buffers)).toThrow(MoEDisposedError);
    expect(() => bank.applyGrouped(tokens, [1, 0])).toThrow('FeedForwardExperts.applyGrouped: this FeedForwardExperts was disposed');
    expect(() => bank.selectExperts([0])).toThrow(MoEDisposedError);
    expect(() => shared.apply(tokens, { training: false })).toThrow('SharedExpert.apply: this SharedExpert was disposed');
    tf.dispose([buffers, tokens]);
  });
});

describe("FeedForwardExperts on whole samples (MoELayer routeOver: 'sample', issue 18)", () => {
  it('applies each routed sample [S, D] position by position, on the padded and the grouped layout', () => {
    // one expert, so every sample goes to it with weight softmax([l]) = 1: the MoE equals the FFN on each position
    const experts = new FeedForwardExperts({ numExperts: 1, hiddenDim: 6, seed: 4 });
    const x = tf.randomNormal([3, 5, 8], 0, 1, 'float32', 9); // [B, S, D]
    for (const layout of ['padded', 'grouped'] as const) {
      const layer = new MoELayer({ router: new LinearTopKRouter({ inputDim: 8, numExperts: 1, k: 1 }), experts, routeOver: 'sample', layout, capacity: { eval: 0 } });
      const y = layer.apply(x) as tf.Tensor; // [B, S, D]
      expect(y.shape).toEqual([3, 5, 8]);
      expect(layer.lastMetrics!.load).toEqual([3]); // 3 samples routed whole, not 15 positions
      const expected = tf.tidy(() => tf.reshape(experts.apply(tf.reshape(x, [1, 15, 8]), { training: false }), [3, 5, 8])); // the FFN per position
      expectTensorsClose(y, expected);
      tf.dispose([y, expected]);
    }
    expect(experts.inputFeatureShape).toEqual([8]);
    x.dispose();
  });
});
