import * as tf from '@tensorflow/tfjs';
import { MoEArgumentError } from '@moekit/core';
import { expectNoLeakedTensors } from '@moekit/core/testing';
import { MixtralCausalLM, type MixtralCausalLMArgs } from '@moekit/transformer';
import { describe, expect, it } from 'vitest';
import { loadMixtralCheckpoint, mixtralArgsFromHfConfig, mixtralCheckpointTensors, mixtralFromCheckpoint, mixtralHfConfig } from './mixtral-checkpoint.js';
import { decodeSafetensors, encodeSafetensors } from './safetensors.js';

const tiny: MixtralCausalLMArgs = { vocabSize: 13, hiddenSize: 8, intermediateSize: 12, numHiddenLayers: 2, numAttentionHeads: 2, numKeyValueHeads: 1, numLocalExperts: 3, initializerRange: 0.3, maxPositionEmbeddings: 32, slidingWindow: 4, seed: 5 };

describe('Mixtral checkpoints (HF MixtralForCausalLM layout)', () => {
  it('exports HF names and [out, in] shapes and the full config.json', () => {
    const model = new MixtralCausalLM(tiny);
    const { seed: _seed, ...withoutSeed } = tiny;
    const tensors = mixtralCheckpointTensors(model);
    const shapes = Object.fromEntries([...tensors].map(([name, t]) => [name, t.shape]));
    expect(Object.keys(shapes).length).toBe(1 + 2 * (6 + 1 + 3 * 3) + 2); // embed, per layer (2 norms, q/k/v/o, gate, 3 experts × 3), norm, lm_head
    expect(shapes['model.embed_tokens.weight']).toEqual([13, 8]);
    expect(shapes['model.layers.1.self_attn.q_proj.weight']).toEqual([8, 8]);
    expect(shapes['model.layers.1.self_attn.k_proj.weight']).toEqual([4, 8]); // [G·d, D]
    expect(shapes['model.layers.0.block_sparse_moe.gate.weight']).toEqual([3, 8]);
    expect(shapes['model.layers.0.block_sparse_moe.experts.2.w2.weight']).toEqual([8, 12]);
    expect(shapes['lm_head.weight']).toEqual([13, 8]);
    const q = model.layers[1]!.selfAttn.namedVariables()[0]![1];
    expect(tensors.get('model.layers.1.self_attn.q_proj.weight')!.arraySync()).toEqual(tf.tidy(() => tf.transpose(q).arraySync()));
    expect(mixtralHfConfig(model)).toMatchObject({ architectures: ['MixtralForCausalLM'], model_type: 'mixtral', num_key_value_heads: 1, head_dim: 4, sliding_window: 4, hidden_act: 'silu', torch_dtype: 'float32', num_experts_per_tok: 2 });
    expect(mixtralArgsFromHfConfig(mixtralHfConfig(model) as unknown as Record<string, unknown>)).toMatchObject(withoutSeed);
    tf.dispose([...tensors.values()]);
    model.dispose();
  });

  it('round-trips through safetensors into a fresh model with identical logits, without leaks', async () => {
    const model = new MixtralCausalLM(tiny);
    const ids = tf.tensor2d([[1, 5, 12, 0, 7, 7]], undefined, 'int32');
    await expectNoLeakedTensors(async () => {
      const tensors = mixtralCheckpointTensors(model);
      const bytes = await encodeSafetensors(tensors, { metadata: { format: 'pt' } });
      tf.dispose([...tensors.values()]);
      const decoded = decodeSafetensors(bytes).tensors;
      const copy = mixtralFromCheckpoint(mixtralHfConfig(model), decoded, { seed: 99 });
      tf.dispose([...decoded.values()]);
      const [a, b] = [model.logits(ids), copy.logits(ids)];
      expect(b.arraySync()).toEqual(a.arraySync());
      tf.dispose([a, b]);
      copy.dispose();
    });
    ids.dispose();
    model.dispose();
  });

  it('names a missing, an extra and a mis-shaped tensor, and assigns nothing then', () => {
    const model = new MixtralCausalLM(tiny);
    const tensors = mixtralCheckpointTensors(model);
    const without = new Map(tensors);
    without.delete('model.layers.1.post_attention_layernorm.weight');
    expect(() => loadMixtralCheckpoint(model, without)).toThrow(MoEArgumentError);
    expect(() => loadMixtralCheckpoint(model, without)).toThrow(/tensors.*'model\.layers\.1\.post_attention_layernorm\.weight'.*none/s);
    const extra = new Map(tensors).set('model.layers.2.input_layernorm.weight', tf.ones([8]));
    expect(() => loadMixtralCheckpoint(model, extra)).toThrow(/unexpected tensor 'model\.layers\.2\.input_layernorm\.weight'/);
    const wrong = new Map(tensors).set('model.layers.0.self_attn.k_proj.weight', tf.zeros([8, 8]));
    expect(() => loadMixtralCheckpoint(model, wrong)).toThrow(/tensors\['model\.layers\.0\.self_attn\.k_proj\.weight'\].*shape \[4, 8\].*shape \[8, 8\]/s);
    const wrongExpert = new Map(tensors).set('model.layers.0.block_sparse_moe.experts.1.w3.weight', tf.zeros([8, 12]));
    expect(() => loadMixtralCheckpoint(model, wrongExpert)).toThrow(/experts\.1\.w3\.weight.*shape \[12, 8\]/s);
    // an int32 expert weight (a file of integers) is named before any variable changes, dense or expert
    const intExpert = new Map(tensors).set('model.layers.1.block_sparse_moe.experts.0.w2.weight', tf.zeros([8, 12], 'int32'));
    expect(() => loadMixtralCheckpoint(model, intExpert)).toThrow(/tensors\['model\.layers\.1\.block_sparse_moe\.experts\.0\.w2\.weight'\].*float32.*int32/s);
    expect(model.embedTokens.arraySync()).toEqual(tensors.get('model.embed_tokens.weight')!.arraySync()); // unchanged
    tf.dispose([...tensors.values(), extra.get('model.layers.2.input_layernorm.weight')!, wrong.get('model.layers.0.self_attn.k_proj.weight')!, wrongExpert.get('model.layers.0.block_sparse_moe.experts.1.w3.weight')!, intExpert.get('model.layers.1.block_sparse_moe.experts.0.w2.weight')!]);
    model.dispose();
  });

  it('names config values moekit does not implement; fills omitted fields with MixtralConfig defaults', () => {
    const config = mixtralHfConfig(new MixtralCausalLM({ ...tiny, numHiddenLayers: 1 })) as unknown as Record<string, unknown>;
    expect(() => mixtralArgsFromHfConfig({ ...config, hidden_act: 'gelu' })).toThrow(/config\.hidden_act.*'silu'.*'gelu'/s);
    expect(() => mixtralArgsFromHfConfig({ ...config, model_type: 'mistral' })).toThrow(/config\.model_type/);
    expect(() => mixtralArgsFromHfConfig({ ...config, architectures: ['MistralForCausalLM'] })).toThrow(/config\.architectures/);
    expect(() => mixtralArgsFromHfConfig({ ...config, rope_scaling: { type: 'linear', factor: 2 } })).toThrow(/config\.rope_scaling/);
    expect(() => mixtralArgsFromHfConfig({ ...config, router_jitter_noise: 0.01 })).toThrow(/config\.router_jitter_noise.*0 \(not implemented/s);
    expect(() => mixtralArgsFromHfConfig({ ...config, num_hidden_layers: 0 })).toThrow(/config\.num_hidden_layers.*positive integer/s);
    expect(mixtralArgsFromHfConfig({ model_type: 'mixtral' })).toMatchObject({ vocabSize: 32000, hiddenSize: 4096, numKeyValueHeads: 8, headDim: 128, numLocalExperts: 8, ropeTheta: 1e6, slidingWindow: 0 });
  });
});
