import * as tf from '@tensorflow/tfjs';
import { MoEArgumentError, MoEDisposedError } from '@moekit/core';
import { expectNoLeakedTensors } from '@moekit/core/testing';
import { describe, expect, it } from 'vitest';
import { MixtralCausalLM, type MixtralCausalLMArgs } from './mixtral-causal-lm.js';

const tiny: MixtralCausalLMArgs = { vocabSize: 11, hiddenSize: 16, intermediateSize: 24, numHiddenLayers: 2, numAttentionHeads: 4, numKeyValueHeads: 2, numLocalExperts: 4, maxPositionEmbeddings: 12, seed: 7 };
const ids = () => tf.tensor2d([[1, 4, 9, 2, 0], [3, 3, 10, 5, 7]], undefined, 'int32'); // [2, 5]

describe('MixtralCausalLM', () => {
  it("names its variables as HF's modules, one MoE per layer (dropless), lm_head [V, D] unless tied", () => {
    const model = new MixtralCausalLM(tiny);
    const paths = model.namedVariables().map(([path, v]) => `${path} ${v.shape.join('x')}`);
    expect(paths.slice(0, 2)).toEqual(['embedTokens 11x16', 'lmHead 11x16']);
    expect(paths).toContain('layers/1/selfAttn/kProj 16x8');
    expect(paths).toContain('layers/0/blockSparseMoe/router/gate/kernel 16x4');
    expect(paths).toContain('layers/0/blockSparseMoe/experts/w2 4x24x16');
    expect(paths.at(-1)).toBe('norm/weight 16');
    expect(model.layers[0]!.blockSparseMoe.config.capacity).toMatchObject({ train: 0, eval: 0 });
    const tied = new MixtralCausalLM({ ...tiny, tieWordEmbeddings: true });
    expect(tied.lmHead).toBe(tied.embedTokens);
    expect(tied.namedVariables().length).toBe(model.namedVariables().length - 1);
    model.dispose();
    tied.dispose();
  });

  it('gives [B, S, V] logits and per-layer [B·S, E] router logits, causally, without leaks', async () => {
    const model = new MixtralCausalLM({ ...tiny, initializerRange: 0.3 });
    const x = ids();
    const changed = tf.tensor2d([[1, 4, 9, 8, 8], [3, 3, 10, 5, 7]], undefined, 'int32');
    await expectNoLeakedTensors(() => {
      const { logits, routerLogits } = model.forward(x);
      expect(logits.shape).toEqual([2, 5, 11]);
      expect(routerLogits.map((r) => r.shape)).toEqual([[10, 4], [10, 4]]);
      const other = model.logits(changed);
      const [a, b] = [logits.arraySync()[0]!, other.arraySync()[0]!];
      for (let s = 0; s < 3; s++) a[s]!.forEach((v, j) => expect(v).toBeCloseTo(b[s]![j]!, 5)); // positions before the change
      expect(Math.abs(a[3]![0]! - b[3]![0]!)).toBeGreaterThan(1e-4);
      tf.dispose([logits, other, ...routerLogits]);
    });
    tf.dispose([x, changed]);
    model.dispose();
  });

  it('trains: loss = next-token cross entropy + coef · load balancing, ≈ ln V at a small init, with a gradient for every weight', async () => {
    const model = new MixtralCausalLM({ ...tiny, routerAuxLossCoef: 0.01 });
    const x = ids();
    await expectNoLeakedTensors(() => {
      const { total, crossEntropy, loadBalancing } = model.loss(x, { training: true });
      expect(crossEntropy.dataSync()[0]).toBeCloseTo(Math.log(11), 1);
      expect(total.dataSync()[0]).toBeCloseTo(crossEntropy.dataSync()[0]! + 0.01 * loadBalancing.dataSync()[0]!, 5);
      tf.dispose([total, crossEntropy, loadBalancing]);
      const { value, grads } = tf.variableGrads(() => model.loss(x, { training: true }).total, model.trainableVariables);
      expect(Object.keys(grads).length).toBe(model.trainableVariables.length);
      expect(Object.values(grads).every((g) => tf.tidy(() => tf.any(tf.notEqual(g, 0)).dataSync()[0] === 1))).toBe(true);
      tf.dispose([value, ...Object.values(grads)]);
    });
    x.dispose();
    model.dispose();
  });

  it('generates greedily: the prompt kept, each new token the argmax of the last position', async () => {
    const model = new MixtralCausalLM({ ...tiny, initializerRange: 0.3 });
    const x = ids();
    await expectNoLeakedTensors(() => {
      const out = model.generate(x, 3);
      expect(out.shape).toEqual([2, 8]);
      expect(out.dtype).toBe('int32');
      const rows = out.arraySync();
      expect(rows.map((r) => r.slice(0, 5))).toEqual(x.arraySync());
      const prefix = tf.slice(out, [0, 0], [2, 7]);
      const logits = model.logits(prefix);
      const argmax = tf.tidy(() => tf.argMax(tf.squeeze(tf.slice(logits, [0, 6, 0], [2, 1, 11]), [1]), 1).arraySync() as number[]);
      expect(rows.map((r) => r[7])).toEqual(argmax);
      tf.dispose([out, prefix, logits]);
    });
    x.dispose();
    model.dispose();
  });

  it('names bad token ids, lengths and use after dispose', () => {
    const model = new MixtralCausalLM(tiny);
    const floats = tf.tensor2d([[1, 2]]);
    const outOfRange = tf.tensor2d([[1, 11]], undefined, 'int32');
    const flat = tf.tensor1d([1, 2], 'int32');
    const x = ids();
    expect(() => model.logits(floats)).toThrow(MoEArgumentError);
    expect(() => model.logits(floats)).toThrow(/inputIds.*dtype int32.*float32/s);
    expect(() => model.logits(outOfRange)).toThrow(/inputIds.*token ids in \[0, 10\] \(vocabSize\).*from 1 to 11/s);
    expect(() => model.logits(flat)).toThrow(/inputIds.*rank 2/s);
    expect(() => model.generate(x, 8)).toThrow(/maxNewTokens.*\[0, 7\].*8/s);
    const single = tf.tensor2d([[1]], undefined, 'int32');
    expect(() => model.loss(single)).toThrow(/inputIds.*at least 2 positions/s);
    expect(() => new MixtralCausalLM({ ...tiny, numExpertsPerTok: 5 })).toThrow(/numExpertsPerTok/);
    model.dispose();
    expect(() => model.logits(x)).toThrow(MoEDisposedError);
    tf.dispose([floats, outOfRange, flat, x, single]);
  });
});
