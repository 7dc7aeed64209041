import * as tf from '@tensorflow/tfjs-core';
import { MixtureOfExperts, MoEArgumentError, type CapacityConfig, type NamedVariable } from '@moekit/core';
import { FeedForwardExperts, type FfnActivation } from '@moekit/experts-ffn';
import { SwitchRouter } from '@moekit/router-switch';
import { componentName, exportLayout, gateInputWidth, importLayout, type LayoutVariable } from './checkpoint-layout.js';
import { readSwitchTransformersConfig, type SwitchTransformersMoEConfigJson } from './hf-config.js';

/*
 * Switch Transformers' sparse MLP, as huggingface/transformers
 * src/transformers/models/switch_transformers/modeling_switch_transformers.py @ 2b24433ab77dc90a72d41a2a58ecaaa35c021037
 * defines it (`SwitchTransformersTop1Router`, `SwitchTransformersSparseMLP`, `SwitchTransformersDenseActDense`):
 *   p = softmax(x · classifierᵀ)              router.classifier.weight [E, D] (bias only with router_bias)
 *   i = argmax p; kept while the token's position among its row's tokens for i is ≤ expert_capacity
 *   y = p_i · woᵀ(act(x · wiᵀ))                experts.expert_i.wi.weight [H, D], .wo.weight [D, H]; no biases
 * (Fedus et al. 2021, https://arxiv.org/abs/2101.03961, Eqs. 1-2). moekit computes the same with
 * SwitchRouter (kernel = classifierᵀ) and ungated FeedForwardExperts (W1 = wiᵀ, W2 = woᵀ).
 */

/** HF's activation names ↔ moekit's. */
const ACTIVATIONS: Readonly<Record<SwitchTransformersMoEConfigJson['dense_act_fn'], FfnActivation>> = { relu: 'relu', gelu: 'gelu', silu: 'swish' };

/** Options of {@link switchSparseMlp}. */
export interface SwitchSparseMlpOptions {
  /**
   * Tokens per group — HF's group is one batch row, so the sequence length `S`. When given, the
   * capacity factor is `expert_capacity · E / S` (rounded to the nearest slot), so a call on one row
   * of `S` tokens gets HF's `expert_capacity` slots per expert. Default: moekit's Switch capacity
   * (1.25 in training, dropless evaluation where free).
   */
  tokensPerGroup?: number;
  /** Seed of the initial weights and of the router's training-time jitter. */
  seed?: number;
  /** The MoE's name in messages. Default `'mlp'`. */
  name?: string;
}

/** The capacity that gives `expertCapacity` slots per expert to a call of `tokensPerGroup` tokens (top-1). */
function switchCapacity(where: string, expertCapacity: number, numExperts: number, tokensPerGroup: number): CapacityConfig {
  if (!(Number.isSafeInteger(tokensPerGroup) && tokensPerGroup >= 1)) throw new MoEArgumentError(where, 'options.tokensPerGroup', 'a positive integer (the sequence length)', String(tokensPerGroup));
  const factor = (expertCapacity * numExperts) / tokensPerGroup; // round(f · S / E) = expert_capacity
  return { train: factor, eval: factor, rounding: 'round', multiplyByK: true, min: 1 };
}

/**
 * Builds the moekit MoE that computes what a Switch Transformers sparse MLP of `config` computes:
 * `SwitchRouter { jitter: router_jitter_noise, loadBalancingWeight: router_aux_loss_coef,
 * zLossWeight: router_z_loss_coef, dropPolicy: 'position' }` and ungated `FeedForwardExperts`
 * without biases (`dense_act_fn`). The weights are created at once, ready for {@link loadSwitchSparseMlp}.
 *
 * What differs from HF: HF's `expert_capacity` is a count per batch row; moekit's capacity is a
 * factor over all the tokens of a call, so with `tokensPerGroup: S` a call on one row keeps exactly
 * HF's tokens, while a call on `B` rows pools `B · expert_capacity` slots over them. A token no expert
 * keeps gives 0 here (`droppedTokens: 'zero'`, the paper's), where HF passes `p · x` on.
 *
 * @param config a Switch Transformers `config.json` (checked by {@link readSwitchTransformersConfig}).
 * @example
 * ```ts
 * import { switchSparseMlp } from '@moekit/hf';
 *
 * const moe = switchSparseMlp({ d_model: 512, d_ff: 2048, num_experts: 8, expert_capacity: 64 }, { tokensPerGroup: 512 });
 * ```
 */
export function switchSparseMlp(config: unknown, options: SwitchSparseMlpOptions = {}): MixtureOfExperts {
  const where = 'switchSparseMlp';
  const c = readSwitchTransformersConfig(config);
  const { d_model: D, d_ff: H, num_experts: E } = c;
  const seed = options.seed === undefined ? {} : { seed: options.seed };
  const router = new SwitchRouter({
    numExperts: E,
    inputDim: D,
    jitter: c.router_jitter_noise,
    loadBalancingWeight: c.router_aux_loss_coef,
    zLossWeight: c.router_z_loss_coef,
    dropPolicy: 'position',
    ...(options.tokensPerGroup === undefined ? {} : { capacity: switchCapacity(where, c.expert_capacity, E, options.tokensPerGroup) }),
    ...seed,
  });
  const experts = new FeedForwardExperts({ numExperts: E, inputDim: D, hiddenDim: H, activation: ACTIVATIONS[c.dense_act_fn], gated: 'none', useBias: false, ...(options.seed === undefined ? {} : { seed: options.seed + 1 }) });
  return new MixtureOfExperts({ router, experts, name: options.name ?? 'mlp' });
}

/** The router, the experts and the activation, checked to be Switch Transformers'; else a named error saying what does not fit. */
function switchParts(where: string, moe: MixtureOfExperts): { router: SwitchRouter; experts: FeedForwardExperts } {
  if (!(moe instanceof MixtureOfExperts)) throw new MoEArgumentError(where, 'moe', 'a MixtureOfExperts (an MoELayer holds one as .moe)', String(moe));
  const router = moe.router;
  if (!(router instanceof SwitchRouter)) throw new MoEArgumentError(where, 'moe.router', "a SwitchRouter (Switch Transformers' top-1 router)", componentName(router));
  if (router.config.dropPolicy !== 'position') throw new MoEArgumentError(where, 'moe.router.dropPolicy', "'position' (HF keeps the first tokens of a row)", `'${router.config.dropPolicy}'`);
  if (router.config.jitterOn !== 'input') throw new MoEArgumentError(where, 'moe.router.jitterOn', "'input' (HF's router_jitter_noise multiplies the router input)", `'${router.config.jitterOn}'`);
  if (moe.config.renormalize !== 'none') throw new MoEArgumentError(where, 'moe.renormalize', "'none' (HF scales each output by the top-1 probability)", `'${moe.config.renormalize}'`);
  const experts = moe.experts;
  if (!(experts instanceof FeedForwardExperts)) throw new MoEArgumentError(where, 'moe.experts', 'FeedForwardExperts (Switch experts are dense FFNs)', componentName(experts));
  const { gated, useBias, inputDim, outputDim } = experts.config;
  if (gated !== 'none') throw new MoEArgumentError(where, 'moe.experts.gated', "'none' (SwitchTransformersDenseActDense is wo(act(wi x)))", `'${gated}'`);
  if (useBias) throw new MoEArgumentError(where, 'moe.experts.useBias', "false (Switch Transformers' experts have no biases)", 'true');
  if (outputDim !== undefined && inputDim !== undefined && outputDim !== inputDim) throw new MoEArgumentError(where, 'moe.experts.outputDim', `the input width ${inputDim} (Switch experts map d_model to d_model)`, String(outputDim));
  if (moe.shared !== undefined) throw new MoEArgumentError(where, 'moe.shared', "no shared expert (Switch Transformers' MLP has none)", componentName(moe.shared));
  return { router, experts };
}

/**
 * Checks that `moe` can be written in Switch Transformers' layout, and says what does not fit: a
 * router other than `SwitchRouter` with `dropPolicy: 'position'` and input jitter, `renormalize` other than `'none'`,
 * experts other than ungated `FeedForwardExperts` without biases, a shared expert (each an
 * `MoEArgumentError` naming `moe.<part>`).
 *
 * @example
 * ```ts
 * import { checkSwitchExportable } from '@moekit/hf';
 *
 * checkSwitchExportable(layer.moe); // throws e.g. "argument 'moe.router' expected a SwitchRouter …, got GatedRouter"
 * ```
 */
export function checkSwitchExportable(moe: MixtureOfExperts): void {
  switchParts('checkSwitchExportable', moe);
}

/** The layout of a built, checked moe: the classifier and two kernels per expert. */
function switchLayout(where: string, moe: MixtureOfExperts, prefix: string): LayoutVariable[] {
  if (typeof prefix !== 'string') throw new MoEArgumentError(where, 'prefix', "a string such as 'encoder.block.1.layer.1.mlp.'", String(prefix));
  switchParts(where, moe);
  const variables = new Map<string, tf.Variable>(moe.namedVariables() as NamedVariable[]);
  const kernel = variables.get('router/kernel');
  if (kernel === undefined || !variables.has('experts/w1') || !variables.has('experts/w2')) throw new MoEArgumentError(where, 'moe', 'a built MixtureOfExperts (call moe.build([D]) or apply it once)', 'an MoE whose weights are not created yet');
  const E = moe.numExperts;
  const perExpert = (path: string, hfName: string): LayoutVariable => ({ path, variable: variables.get(path)!, names: Array.from({ length: E }, (_, i) => `${prefix}experts.expert_${i}.${hfName}.weight`), perExpert: true });
  return [
    { path: 'router/kernel', variable: kernel, names: [`${prefix}router.classifier.weight`], perExpert: false }, // [D, E] ↔ [E, D]
    perExpert('experts/w1', 'wi'), // [E, D, H] ↔ E × [H, D]
    perExpert('experts/w2', 'wo'), // [E, H, D] ↔ E × [D, H]
  ];
}

/**
 * The weights of `moe` in Switch Transformers' layout: `${prefix}router.classifier.weight` `[E, D]`
 * and, for each expert `i`, `${prefix}experts.expert_${i}.wi.weight` `[H, D]` and `.wo.weight`
 * `[D, H]` — transposed copies of the router kernel and the experts' `w1`, `w2`, which the caller
 * owns. `moe` must be built and pass {@link checkSwitchExportable}.
 *
 * @param prefix the MLP's name in the model, e.g. `'encoder.block.1.layer.1.mlp.'`.
 * @example
 * ```ts
 * import { encodeSafetensors, switchSparseMlpTensors } from '@moekit/hf';
 *
 * const tensors = switchSparseMlpTensors(moe, 'encoder.block.1.layer.1.mlp.');
 * const bytes = await encodeSafetensors(tensors, { metadata: { format: 'pt' } });
 * tf.dispose([...tensors.values()]);
 * ```
 */
export function switchSparseMlpTensors(moe: MixtureOfExperts, prefix: string): Map<string, tf.Tensor> {
  return exportLayout(switchLayout('switchSparseMlpTensors', moe, prefix));
}

/**
 * Loads Switch Transformers-layout weights (see {@link switchSparseMlpTensors}) into `moe`'s
 * variables, building an unbuilt `moe` for the classifier's width first. Every expected name must be
 * present, float32, with its exact shape, and no other name may start with `prefix`; otherwise an
 * `MoEArgumentError` names the tensor, the expected and the actual shape. Everything is checked
 * before anything is assigned. Does not dispose `tensors`.
 *
 * @param tensors checkpoint tensors by name.
 * @param prefix the MLP's name in the model, e.g. `'encoder.block.1.layer.1.mlp.'`.
 * @example
 * ```ts
 * import { loadSwitchSparseMlp } from '@moekit/hf';
 *
 * loadSwitchSparseMlp(moe, tensors, 'encoder.block.1.layer.1.mlp.');
 * ```
 */
export function loadSwitchSparseMlp(moe: MixtureOfExperts, tensors: ReadonlyMap<string, tf.Tensor>, prefix: string): void {
  const where = 'loadSwitchSparseMlp';
  switchParts(where, moe);
  const paths = new Set(moe.namedVariables().map(([path]) => path));
  if (!['router/kernel', 'experts/w1', 'experts/w2'].every((path) => paths.has(path))) {
    moe.build([gateInputWidth(where, tensors, `${prefix}router.classifier.weight`, moe.numExperts)]); // a no-op for the parts already built
  }
  importLayout(where, 'Switch Transformers', switchLayout(where, moe, prefix), tensors, prefix);
}

/** Options of {@link switchTransformersConfig}. */
export interface SwitchTransformersConfigOptions {
  /** Tokens per group (HF: per batch row, the sequence length), to turn the capacity factor into `expert_capacity`. */
  tokensPerGroup: number;
}

/**
 * The `config.json` fields of Switch Transformers' sparse MLP that `moe` corresponds to: widths and
 * counts from its weights, the router's jitter and loss weights, the activation, and
 * `expert_capacity = round(f · S / E)` from the training capacity factor `f` and
 * `tokensPerGroup` `S` (`S`, every token, for a dropless factor ≤ 0). `moe` must be built and pass
 * {@link checkSwitchExportable}.
 *
 * @example
 * ```ts
 * import { switchTransformersConfig } from '@moekit/hf';
 *
 * const config = { model_type: 'switch_transformers', ...switchTransformersConfig(moe, { tokensPerGroup: 512 }) };
 * ```
 */
export function switchTransformersConfig(moe: MixtureOfExperts, options: SwitchTransformersConfigOptions): SwitchTransformersMoEConfigJson {
  const where = 'switchTransformersConfig';
  const [, w1] = switchLayout(where, moe, '');
  const { router, experts } = switchParts(where, moe);
  const S = options?.tokensPerGroup;
  if (!(Number.isSafeInteger(S) && S >= 1)) throw new MoEArgumentError(where, 'options.tokensPerGroup', 'a positive integer (the sequence length)', String(S));
  const E = moe.numExperts;
  const factor = moe.config.capacity.train;
  const activation = experts.config.activation;
  return {
    d_model: w1!.variable.shape[1]!,
    d_ff: w1!.variable.shape[2]!,
    num_experts: E,
    expert_capacity: factor > 0 ? Math.max(1, Math.round((factor * S) / E)) : S,
    router_bias: false,
    router_jitter_noise: router.config.jitter,
    router_dtype: 'float32',
    router_z_loss_coef: router.config.zLossWeight,
    router_aux_loss_coef: router.config.loadBalancingWeight,
    dense_act_fn: activation === 'swish' ? 'silu' : activation,
  };
}
