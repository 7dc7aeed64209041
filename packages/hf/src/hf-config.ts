import { MoEArgumentError } from '@moekit/core';

/**
 * The `config.json` fields of a Mixtral model that its sparse MoE block needs, as
 * `transformers`' `MixtralConfig` names them (huggingface/transformers
 * `src/transformers/models/mixtral/configuration_mixtral.py` @ 00d4b3d2142cb4ced2f51b90614b5d26bc045015).
 */
export interface MixtralMoEConfigJson {
  /** Model width `D`. */
  hidden_size: number;
  /** Expert hidden width `H`. */
  intermediate_size: number;
  /** Experts `E`. */
  num_local_experts: number;
  /** Experts per token `K`. */
  num_experts_per_tok: number;
  /** Weight of the load-balancing loss (HF default 0.001). */
  router_aux_loss_coef: number;
  /** Multiplicative jitter of the block's input in training (HF default 0; moekit supports only 0). */
  router_jitter_noise: number;
  /** The experts' activation: only `'silu'` (SwiGLU experts). */
  hidden_act: 'silu';
  /** Whether HF returns the router logits and adds the aux loss (HF default false). */
  output_router_logits: boolean;
}

/**
 * The `config.json` fields of a Switch Transformers model that its sparse MLP needs, as
 * `SwitchTransformersConfig` names them (huggingface/transformers
 * `src/transformers/models/switch_transformers/configuration_switch_transformers.py` @ 2b24433ab77dc90a72d41a2a58ecaaa35c021037).
 */
export interface SwitchTransformersMoEConfigJson {
  /** Model width `D`. */
  d_model: number;
  /** Expert hidden width `H`. */
  d_ff: number;
  /** Experts `E`. */
  num_experts: number;
  /** Slots per expert per group, a group being one batch row (HF default 64). */
  expert_capacity: number;
  /** Whether the router's classifier has a bias: only `false` (moekit's router has none). */
  router_bias: false;
  /** Multiplicative jitter of the router input in training (HF default 0.01). */
  router_jitter_noise: number;
  /** The router's compute type: only `'float32'` (moekit's routers compute in float32). */
  router_dtype: 'float32';
  /** Weight of the router z-loss (HF default 0.001). */
  router_z_loss_coef: number;
  /** Weight of the load-balancing loss (HF default 0.001). */
  router_aux_loss_coef: number;
  /** The experts' activation: `'relu'` (HF default), `'gelu'` (exact, erf) or `'silu'`. */
  dense_act_fn: 'relu' | 'gelu' | 'silu';
}

const describe = (value: unknown) => (typeof value === 'string' ? `'${value}'` : JSON.stringify(value) ?? String(value));

type FieldKind = 'positive integer' | 'non-negative number' | 'boolean';

function checkObject(where: string, json: unknown): Record<string, unknown> {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new MoEArgumentError(where, 'config', 'a config.json object', describe(json));
  return json as Record<string, unknown>;
}

/** The field `name` of `json`, checked to be of `kind`; `fallback` (HF's default) when absent, an error when absent without one. */
function field<T>(where: string, json: Record<string, unknown>, name: string, kind: FieldKind, fallback?: T): T {
  const value = json[name];
  if (value === undefined) {
    if (fallback === undefined) throw new MoEArgumentError(where, `config.${name}`, `a ${kind}`, 'a missing field');
    return fallback;
  }
  const ok = kind === 'boolean' ? typeof value === 'boolean' : kind === 'positive integer' ? Number.isSafeInteger(value) && (value as number) >= 1 : typeof value === 'number' && Number.isFinite(value) && value >= 0;
  if (!ok) throw new MoEArgumentError(where, `config.${name}`, `a ${kind}`, describe(value));
  return value as T;
}

/** The field `name` of `json`, one of `allowed` (`fallback`, HF's default, when absent). */
function choice<T extends string>(where: string, json: Record<string, unknown>, name: string, allowed: readonly T[], fallback: T, why: string): T {
  const value = json[name] ?? fallback;
  if (!allowed.includes(value as T)) throw new MoEArgumentError(where, `config.${name}`, `${allowed.map(describe).join(' or ')} (${why})`, describe(value));
  return value as T;
}

/**
 * Reads and checks the fields of a Mixtral `config.json` that the sparse MoE block needs. The widths
 * and counts are required; the others default as `MixtralConfig` does. A missing or mistyped field,
 * `num_experts_per_tok > num_local_experts`, a `hidden_act` other than `'silu'` or a non-zero
 * `router_jitter_noise` (HF jitters the experts' input too, which moekit does not) is an
 * `MoEArgumentError` naming `config.<field>`.
 *
 * @param json the parsed `config.json` (other fields are ignored).
 * @example
 * ```ts
 * import { readMixtralConfig } from '@moekit/hf';
 *
 * const config = readMixtralConfig({ hidden_size: 8, intermediate_size: 16, num_local_experts: 4, num_experts_per_tok: 2 });
 * console.log(config.router_aux_loss_coef); // 0.001
 * ```
 */
export function readMixtralConfig(json: unknown): MixtralMoEConfigJson {
  const where = 'readMixtralConfig';
  const c = checkObject(where, json);
  const config: MixtralMoEConfigJson = {
    hidden_size: field(where, c, 'hidden_size', 'positive integer'),
    intermediate_size: field(where, c, 'intermediate_size', 'positive integer'),
    num_local_experts: field(where, c, 'num_local_experts', 'positive integer'),
    num_experts_per_tok: field(where, c, 'num_experts_per_tok', 'positive integer'),
    router_aux_loss_coef: field(where, c, 'router_aux_loss_coef', 'non-negative number', 0.001),
    router_jitter_noise: field(where, c, 'router_jitter_noise', 'non-negative number', 0),
    hidden_act: choice(where, c, 'hidden_act', ['silu'], 'silu', "moekit's SwiGLU experts use Swish/SiLU"),
    output_router_logits: field(where, c, 'output_router_logits', 'boolean', false),
  };
  if (config.num_experts_per_tok > config.num_local_experts) {
    throw new MoEArgumentError(where, 'config.num_experts_per_tok', `at most num_local_experts (${config.num_local_experts})`, String(config.num_experts_per_tok));
  }
  if (config.router_jitter_noise !== 0) {
    throw new MoEArgumentError(where, 'config.router_jitter_noise', "0 (Mixtral's jitter scales the experts' input too; moekit's GatedRouter has no such jitter)", String(config.router_jitter_noise));
  }
  return config;
}

/**
 * Reads and checks the fields of a Switch Transformers `config.json` that the sparse MLP needs. The
 * widths and the expert count are required; the others default as `SwitchTransformersConfig` does.
 * A missing or mistyped field, `router_bias: true`, a `router_dtype` other than `'float32'` or an
 * unsupported `dense_act_fn` (`'gelu_new'`, the tanh approximation) is an `MoEArgumentError` naming
 * `config.<field>`.
 *
 * @param json the parsed `config.json` (other fields are ignored).
 * @example
 * ```ts
 * import { readSwitchTransformersConfig } from '@moekit/hf';
 *
 * const config = readSwitchTransformersConfig({ d_model: 8, d_ff: 16, num_experts: 4 });
 * console.log(config.expert_capacity, config.dense_act_fn); // 64 relu
 * ```
 */
export function readSwitchTransformersConfig(json: unknown): SwitchTransformersMoEConfigJson {
  const where = 'readSwitchTransformersConfig';
  const c = checkObject(where, json);
  const routerBias = field(where, c, 'router_bias', 'boolean', false);
  if (routerBias) throw new MoEArgumentError(where, 'config.router_bias', "false (moekit's SwitchRouter has no bias)", 'true');
  const config: SwitchTransformersMoEConfigJson = {
    d_model: field(where, c, 'd_model', 'positive integer'),
    d_ff: field(where, c, 'd_ff', 'positive integer'),
    num_experts: field(where, c, 'num_experts', 'positive integer'),
    expert_capacity: field(where, c, 'expert_capacity', 'positive integer', 64),
    router_bias: false,
    router_jitter_noise: field(where, c, 'router_jitter_noise', 'non-negative number', 0.01),
    router_dtype: choice(where, c, 'router_dtype', ['float32'], 'float32', "moekit's routers compute in float32"),
    router_z_loss_coef: field(where, c, 'router_z_loss_coef', 'non-negative number', 0.001),
    router_aux_loss_coef: field(where, c, 'router_aux_loss_coef', 'non-negative number', 0.001),
    dense_act_fn: choice(where, c, 'dense_act_fn', ['relu', 'gelu', 'silu'], 'relu', "the activations moekit's FeedForwardExperts has: ReLU, exact GELU, Swish"),
  };
  if (config.router_jitter_noise >= 1) throw new MoEArgumentError(where, 'config.router_jitter_noise', 'a number in [0, 1)', String(config.router_jitter_noise));
  return config;
}
