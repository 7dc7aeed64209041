import { describe, expect, it } from 'vitest';
import { MoEArgumentError } from '@moekit/core';
import { readMixtralConfig, readSwitchTransformersConfig } from './hf-config.js';

function error(fn: () => unknown): MoEArgumentError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(MoEArgumentError);
    return e as MoEArgumentError;
  }
  throw new Error('expected an MoEArgumentError');
}

const MIXTRAL = { hidden_size: 8, intermediate_size: 16, num_local_experts: 4, num_experts_per_tok: 2 };
const SWITCH = { d_model: 8, d_ff: 16, num_experts: 4 };

describe('readMixtralConfig', () => {
  it("fills in MixtralConfig's defaults and ignores the model's other fields", () => {
    expect(readMixtralConfig({ ...MIXTRAL, model_type: 'mixtral', num_hidden_layers: 32 })).toEqual({
      ...MIXTRAL,
      router_aux_loss_coef: 0.001,
      router_jitter_noise: 0,
      hidden_act: 'silu',
      output_router_logits: false,
    });
  });

  it('names a missing field, a wrong type and an unsupported value', () => {
    const { hidden_size: _, ...noWidth } = MIXTRAL;
    expect(error(() => readMixtralConfig(noWidth)).message).toBe("readMixtralConfig: argument 'config.hidden_size' expected a positive integer, got a missing field");
    expect(error(() => readMixtralConfig({ ...MIXTRAL, intermediate_size: '16' })).message).toBe("readMixtralConfig: argument 'config.intermediate_size' expected a positive integer, got '16'");
    expect(error(() => readMixtralConfig({ ...MIXTRAL, hidden_act: 'gelu' })).message).toContain("argument 'config.hidden_act' expected 'silu'");
    expect(error(() => readMixtralConfig({ ...MIXTRAL, router_jitter_noise: 0.1 })).argument).toBe('config.router_jitter_noise');
    expect(error(() => readMixtralConfig({ ...MIXTRAL, num_experts_per_tok: 5 })).message).toContain('expected at most num_local_experts (4), got 5');
    expect(error(() => readMixtralConfig({ ...MIXTRAL, output_router_logits: 1 })).argument).toBe('config.output_router_logits');
    expect(error(() => readMixtralConfig({ ...MIXTRAL, router_aux_loss_coef: -1 })).argument).toBe('config.router_aux_loss_coef');
    expect(error(() => readMixtralConfig([MIXTRAL])).argument).toBe('config');
  });
});

describe('readSwitchTransformersConfig', () => {
  it("fills in SwitchTransformersConfig's defaults", () => {
    expect(readSwitchTransformersConfig(SWITCH)).toEqual({
      ...SWITCH,
      expert_capacity: 64,
      router_bias: false,
      router_jitter_noise: 0.01,
      router_dtype: 'float32',
      router_z_loss_coef: 0.001,
      router_aux_loss_coef: 0.001,
      dense_act_fn: 'relu',
    });
  });

  it('names a missing field, router_bias, router_dtype, an unsupported activation and a jitter ≥ 1', () => {
    expect(error(() => readSwitchTransformersConfig({ d_model: 8, d_ff: 16 })).argument).toBe('config.num_experts');
    expect(error(() => readSwitchTransformersConfig({ ...SWITCH, router_bias: true })).message).toBe(
      "readSwitchTransformersConfig: argument 'config.router_bias' expected false (moekit's SwitchRouter has no bias), got true",
    );
    expect(error(() => readSwitchTransformersConfig({ ...SWITCH, router_dtype: 'bfloat16' })).message).toContain("got 'bfloat16'");
    expect(error(() => readSwitchTransformersConfig({ ...SWITCH, dense_act_fn: 'gelu_new' })).argument).toBe('config.dense_act_fn');
    expect(error(() => readSwitchTransformersConfig({ ...SWITCH, router_jitter_noise: 1 })).argument).toBe('config.router_jitter_noise');
    expect(error(() => readSwitchTransformersConfig({ ...SWITCH, expert_capacity: 0 })).argument).toBe('config.expert_capacity');
  });
});
