import * as tf from '@tensorflow/tfjs-core';
import { MoEArgumentError, describeValue } from '@moekit/core';
import { MixtralCausalLM, type MixtralCausalLMArgs } from '@moekit/transformer';
import { loadMixtralSparseMoe, mixtralSparseMoeShapes, mixtralSparseMoeTensors } from './mixtral-sparse-moe.js';

/**
 * A Hugging Face `config.json` of a `MixtralForCausalLM` (`configuration_mixtral.py`'s fields): what
 * {@link mixtralHfConfig} writes and {@link mixtralArgsFromHfConfig} reads.
 */
export interface MixtralHfConfig {
  /** `['MixtralForCausalLM']`. */
  architectures: string[];
  /** `'mixtral'`. */
  model_type: string;
  /** Vocabulary size `V`. */
  vocab_size: number;
  /** Model width `D`. */
  hidden_size: number;
  /** Hidden width `H` of each expert. */
  intermediate_size: number;
  /** Decoder layers. */
  num_hidden_layers: number;
  /** Query heads. */
  num_attention_heads: number;
  /** Key/value heads. */
  num_key_value_heads: number;
  /** Per-head width. */
  head_dim: number;
  /** `'silu'` (the only activation of Mixtral's SwiGLU experts moekit maps). */
  hidden_act: string;
  /** Longest sequence. */
  max_position_embeddings: number;
  /** Std of the normal initialiser. */
  initializer_range: number;
  /** `ε` of the RMSNorms. */
  rms_norm_eps: number;
  /** Rotary base `θ`. */
  rope_theta: number;
  /** `null`: no window. */
  sliding_window: number | null;
  /** `lm_head` shares `embed_tokens`. */
  tie_word_embeddings: boolean;
  /** Experts per layer `E`. */
  num_local_experts: number;
  /** Experts per token `K`. */
  num_experts_per_tok: number;
  /** Weight of the load-balancing loss. */
  router_aux_loss_coef: number;
  /** Router input jitter in training (0: moekit implements none). */
  router_jitter_noise: number;
  /** Attention dropout (0: moekit implements none). */
  attention_dropout: number;
  /** Whether HF adds the aux loss by default. */
  output_router_logits: boolean;
  /** HF generation uses a key/value cache. */
  use_cache: boolean;
  /** `'float32'` for what moekit writes; other float types are read as float32. */
  torch_dtype: string;
  /** Beginning-of-sequence id. */
  bos_token_id?: number | null;
  /** End-of-sequence id. */
  eos_token_id?: number | null;
  /** Padding id. */
  pad_token_id?: number | null;
  /** Other fields HF writes (`transformers_version`, …). */
  [field: string]: unknown;
}

/** The `config.json` of `model` as HF's `MixtralConfig` writes it. */
export function mixtralHfConfig(model: MixtralCausalLM): MixtralHfConfig {
  const c = model.config;
  return {
    architectures: ['MixtralForCausalLM'],
    model_type: 'mixtral',
    vocab_size: c.vocabSize,
    hidden_size: c.hiddenSize,
    intermediate_size: c.intermediateSize,
    num_hidden_layers: c.numHiddenLayers,
    num_attention_heads: c.numAttentionHeads,
    num_key_value_heads: c.numKeyValueHeads,
    head_dim: c.headDim,
    hidden_act: 'silu',
    max_position_embeddings: c.maxPositionEmbeddings,
    initializer_range: c.initializerRange,
    rms_norm_eps: c.rmsNormEps,
    rope_theta: c.ropeTheta,
    sliding_window: c.slidingWindow > 0 ? c.slidingWindow : null,
    tie_word_embeddings: c.tieWordEmbeddings,
    num_local_experts: c.numLocalExperts,
    num_experts_per_tok: c.numExpertsPerTok,
    router_aux_loss_coef: c.routerAuxLossCoef,
    router_jitter_noise: 0,
    attention_dropout: 0,
    output_router_logits: false,
    use_cache: true,
    torch_dtype: 'float32',
    bos_token_id: null,
    eos_token_id: null,
    pad_token_id: null,
  };
}

// HF's MixtralConfig defaults, for fields a config.json may omit
const HF_DEFAULTS = {
  vocab_size: 32000,
  hidden_size: 4096,
  intermediate_size: 14336,
  num_hidden_layers: 32,
  num_attention_heads: 32,
  num_key_value_heads: 8,
  hidden_act: 'silu',
  max_position_embeddings: 4096 * 32,
  initializer_range: 0.02,
  rms_norm_eps: 1e-5,
  rope_theta: 1e6,
  sliding_window: null,
  tie_word_embeddings: false,
  num_local_experts: 8,
  num_experts_per_tok: 2,
  router_aux_loss_coef: 0.001,
  router_jitter_noise: 0,
  attention_dropout: 0,
} as const;

/**
 * The `MixtralCausalLM` arguments of a HF `config.json` (missing fields take `MixtralConfig`'s
 * defaults). A value moekit does not implement is a `MoEArgumentError` naming the field: an
 * architecture other than `MixtralForCausalLM`, `hidden_act` other than `silu`, `rope_scaling`,
 * router jitter or attention dropout (training-time noise moekit's decoder lacks).
 */
export function mixtralArgsFromHfConfig(config: Readonly<Record<string, unknown>>): MixtralCausalLMArgs {
  const where = 'mixtralArgsFromHfConfig';
  if (typeof config !== 'object' || config === null) throw new MoEArgumentError(where, 'config', 'a parsed config.json object', describeValue(config));
  const field = (name: keyof typeof HF_DEFAULTS) => (config[name] === undefined ? HF_DEFAULTS[name] : config[name]);
  const architectures = config['architectures'];
  if (config['model_type'] !== undefined && config['model_type'] !== 'mixtral') throw new MoEArgumentError(where, 'config.model_type', "'mixtral'", describeValue(config['model_type']));
  if (architectures !== undefined && !(Array.isArray(architectures) && architectures.includes('MixtralForCausalLM'))) {
    throw new MoEArgumentError(where, 'config.architectures', "['MixtralForCausalLM']", describeValue(architectures));
  }
  if (field('hidden_act') !== 'silu') throw new MoEArgumentError(where, 'config.hidden_act', "'silu'", describeValue(config['hidden_act']));
  if (config['rope_scaling'] !== undefined && config['rope_scaling'] !== null) throw new MoEArgumentError(where, 'config.rope_scaling', 'null (default rotary embedding)', describeValue(config['rope_scaling']));
  for (const name of ['router_jitter_noise', 'attention_dropout'] as const) {
    if (field(name) !== 0) throw new MoEArgumentError(where, `config.${name}`, '0 (not implemented by moekit)', describeValue(config[name]));
  }
  const integer = (name: keyof typeof HF_DEFAULTS) => {
    const value = field(name);
    if (!Number.isInteger(value) || (value as number) < 1) throw new MoEArgumentError(where, `config.${name}`, 'a positive integer', describeValue(value));
    return value as number;
  };
  const window = field('sliding_window');
  if (window !== null && !(Number.isInteger(window) && (window as number) >= 1)) throw new MoEArgumentError(where, 'config.sliding_window', 'null or a positive integer', describeValue(window));
  const hidden = integer('hidden_size');
  const heads = integer('num_attention_heads');
  const headDim = config['head_dim'] === undefined || config['head_dim'] === null ? Math.floor(hidden / heads) : config['head_dim'];
  return {
    vocabSize: integer('vocab_size'),
    hiddenSize: hidden,
    intermediateSize: integer('intermediate_size'),
    numHiddenLayers: integer('num_hidden_layers'),
    numAttentionHeads: heads,
    numKeyValueHeads: integer('num_key_value_heads'),
    headDim: headDim as number,
    numLocalExperts: integer('num_local_experts'),
    numExpertsPerTok: integer('num_experts_per_tok'),
    rmsNormEps: field('rms_norm_eps') as number,
    ropeTheta: field('rope_theta') as number,
    maxPositionEmbeddings: integer('max_position_embeddings'),
    slidingWindow: window === null ? 0 : (window as number),
    tieWordEmbeddings: field('tie_word_embeddings') as boolean,
    routerAuxLossCoef: field('router_aux_loss_coef') as number,
    initializerRange: field('initializer_range') as number,
  };
}

/** One non-MoE tensor of the checkpoint: its moekit variable and whether HF stores it transposed (`[out, in]`). */
interface DenseEntry {
  variable: tf.Variable;
  transposed: boolean;
}

/** The checkpoint's non-MoE names → moekit variables. */
function denseEntries(model: MixtralCausalLM): Map<string, DenseEntry> {
  const entries = new Map<string, DenseEntry>([['model.embed_tokens.weight', { variable: model.embedTokens, transposed: false }]]);
  model.layers.forEach((layer, i) => {
    const p = `model.layers.${i}.`;
    entries.set(`${p}input_layernorm.weight`, { variable: layer.inputLayernorm.weight, transposed: false });
    const attention = new Map(layer.selfAttn.namedVariables());
    for (const name of ['q', 'k', 'v', 'o']) entries.set(`${p}self_attn.${name}_proj.weight`, { variable: attention.get(`${name}Proj`)!, transposed: true });
    entries.set(`${p}post_attention_layernorm.weight`, { variable: layer.postAttentionLayernorm.weight, transposed: false });
  });
  entries.set('model.norm.weight', { variable: model.norm.weight, transposed: false });
  if (!model.config.tieWordEmbeddings) entries.set('lm_head.weight', { variable: model.lmHead, transposed: false });
  return entries;
}

/** The names and HF shapes of every tensor of `model`'s checkpoint, MoE blocks included. */
function expectedShapes(model: MixtralCausalLM): Map<string, number[]> {
  const shapes = new Map<string, number[]>();
  for (const [name, { variable, transposed }] of denseEntries(model)) shapes.set(name, transposed ? [...variable.shape].reverse() : [...variable.shape]);
  model.layers.forEach((layer, i) => {
    for (const [name, shape] of mixtralSparseMoeShapes(layer.blockSparseMoe, `model.layers.${i}.block_sparse_moe.`)) shapes.set(name, shape);
  });
  return shapes;
}

/**
 * The tensors of a HF `MixtralForCausalLM` checkpoint of `model` (copies the caller disposes; HF's
 * names, `[out, in]` projections): `model.embed_tokens.weight` `[V, D]`,
 * `model.layers.{i}.input_layernorm.weight`, `.self_attn.{q,k,v,o}_proj.weight`,
 * `.post_attention_layernorm.weight`, `.block_sparse_moe.…`, `model.norm.weight`, `lm_head.weight`
 * `[V, D]` (absent when tied). Write them with `encodeSafetensors` next to {@link mixtralHfConfig}.
 *
 * @example
 * ```ts
 * const tensors = mixtralCheckpointTensors(model);
 * const bytes = await encodeSafetensors(tensors, { metadata: { format: 'pt' } });
 * tf.dispose([...tensors.values()]);
 * ```
 */
export function mixtralCheckpointTensors(model: MixtralCausalLM): Map<string, tf.Tensor> {
  const tensors = new Map<string, tf.Tensor>();
  for (const [name, { variable, transposed }] of denseEntries(model)) tensors.set(name, transposed ? tf.transpose(variable) : tf.clone(variable));
  model.layers.forEach((layer, i) => {
    for (const [name, t] of mixtralSparseMoeTensors(layer.blockSparseMoe, `model.layers.${i}.block_sparse_moe.`)) tensors.set(name, t);
  });
  return tensors;
}

/**
 * Assigns a HF `MixtralForCausalLM` checkpoint's tensors to `model`'s variables. Every name and
 * shape is checked first (nothing is assigned when one is wrong): a missing tensor, an unexpected
 * one (with `tie_word_embeddings`, `lm_head.weight` may be present and is ignored) or a mis-shaped
 * one is a `MoEArgumentError` naming the tensor.
 */
export function loadMixtralCheckpoint(model: MixtralCausalLM, tensors: ReadonlyMap<string, tf.Tensor>): void {
  const where = 'loadMixtralCheckpoint';
  const expected = expectedShapes(model);
  for (const [name, shape] of expected) {
    const t = tensors.get(name);
    if (t === undefined) throw new MoEArgumentError(where, 'tensors', `a tensor named '${name}'`, 'none');
    if (t.dtype !== 'float32') throw new MoEArgumentError(where, `tensors['${name}']`, 'a float32 tensor', `dtype ${t.dtype}`);
    if (t.shape.length !== shape.length || t.shape.some((d, j) => d !== shape[j])) throw new MoEArgumentError(where, `tensors['${name}']`, `shape [${shape.join(', ')}]`, `shape [${t.shape.join(', ')}]`);
  }
  for (const name of tensors.keys()) {
    if (!expected.has(name) && !(name === 'lm_head.weight' && model.config.tieWordEmbeddings)) {
      throw new MoEArgumentError(where, 'tensors', `only the tensors of this MixtralForCausalLM (${expected.size})`, `the unexpected tensor '${name}'`);
    }
  }
  tf.tidy(() => {
    for (const [name, { variable, transposed }] of denseEntries(model)) {
      const t = tensors.get(name)!;
      variable.assign(transposed ? tf.transpose(t) : t);
    }
  });
  model.layers.forEach((layer, i) => loadMixtralSparseMoe(layer.blockSparseMoe, tensors, `model.layers.${i}.block_sparse_moe.`));
}

/**
 * A `MixtralCausalLM` built from a HF `config.json` ({@link mixtralArgsFromHfConfig}) with the
 * checkpoint's weights ({@link loadMixtralCheckpoint}); disposed again if loading fails.
 *
 * @example
 * ```ts
 * import { readFileSync } from 'node:fs';
 * import { decodeSafetensors, mixtralFromCheckpoint } from '@moekit/hf';
 *
 * const { tensors } = decodeSafetensors(readFileSync('tiny-mixtral/model.safetensors'));
 * const model = mixtralFromCheckpoint(JSON.parse(readFileSync('tiny-mixtral/config.json', 'utf8')), tensors);
 * tf.dispose([...tensors.values()]);
 * const logits = model.logits(ids); // [B, S, V], as transformers' MixtralForCausalLM
 * ```
 */
export function mixtralFromCheckpoint(config: Readonly<Record<string, unknown>>, tensors: ReadonlyMap<string, tf.Tensor>, options: { seed?: number } = {}): MixtralCausalLM {
  const model = new MixtralCausalLM({ ...mixtralArgsFromHfConfig(config), seed: options.seed ?? 0 });
  try {
    loadMixtralCheckpoint(model, tensors);
  } catch (error) {
    model.dispose();
    throw error;
  }
  return model;
}
