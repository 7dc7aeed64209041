import * as tf from '@tensorflow/tfjs-core';
import { GatedRouter, LinearGate, MixtureOfExperts, MoEArgumentError, type NamedVariable } from '@moekit/core';
import { FeedForwardExperts } from '@moekit/experts-ffn';
import { TopKChoice, TopKRouter } from '@moekit/router-topk';
import { checkpointShape, componentName, exportLayout, gateInputWidth, importLayout, type LayoutVariable } from './checkpoint-layout.js';
import { readMixtralConfig, type MixtralMoEConfigJson } from './hf-config.js';

/*
 * Mixtral's sparse MoE block, as huggingface/transformers
 * src/transformers/models/mixtral/modeling_mixtral.py @ 00d4b3d2142cb4ced2f51b90614b5d26bc045015
 * defines it (`MixtralSparseMoeBlock`, `MixtralBlockSparseTop2MLP`):
 *   logits = x · gateᵀ                       gate.weight [E, D]
 *   p = softmax(logits); top-k of p, renormalised to sum 1 over the k
 *   y = Σ_k p_k · w2ᵀ(silu(x · w1ᵀ) ⊙ x · w3ᵀ)  w1, w3 [H, D], w2 [D, H]; no biases; dropless
 * moekit computes the same with GatedRouter(LinearGate, TopKChoice 'topKSoftmax') — Softmax(KeepTopK)
 * equals the renormalised top-k of the softmax (Shazeer et al. 2017, Eq. 3) — and SwiGLU
 * FeedForwardExperts `(Swish(x·W1) ⊙ x·V)·W2` (Shazeer 2020, "GLU Variants", Eq. 6), so
 * W1 = w1ᵀ, V = w3ᵀ, W2 = w2ᵀ and the gate kernel is gate.weightᵀ.
 */

/** Options of {@link mixtralSparseMoe}. */
export interface MixtralSparseMoeOptions {
  /** Seed of the initial weights (replaced when a checkpoint is loaded). */
  seed?: number;
  /** The MoE's name in messages. Default `'block_sparse_moe'`. */
  name?: string;
}

/**
 * Builds the moekit MoE that computes what a Mixtral sparse MoE block of `config` computes:
 * `GatedRouter(LinearGate, TopKChoice { k: num_experts_per_tok, gates: 'topKSoftmax',
 * loadBalancingWeight: router_aux_loss_coef })`, SwiGLU `FeedForwardExperts` without biases, and a
 * dropless capacity (factor 0 in training and evaluation), as Mixtral is dropless. The weights are
 * created at once (`hidden_size` is known), ready for {@link loadMixtralSparseMoe}.
 *
 * @param config a Mixtral `config.json` (checked by {@link readMixtralConfig}).
 * @example
 * ```ts
 * import { loadMixtralSparseMoe, mixtralSparseMoe } from '@moekit/hf';
 * import { loadHfCheckpoint } from '@moekit/hf/node';
 *
 * const { tensors, config } = await loadHfCheckpoint('./mixtral-tiny');
 * const moe = mixtralSparseMoe(config);
 * loadMixtralSparseMoe(moe, tensors, 'model.layers.0.block_sparse_moe.');
 * ```
 */
export function mixtralSparseMoe(config: unknown, options: MixtralSparseMoeOptions = {}): MixtureOfExperts {
  const c = readMixtralConfig(config);
  const { hidden_size: D, intermediate_size: H, num_local_experts: E, num_experts_per_tok: k } = c;
  const router = new GatedRouter({
    gate: new LinearGate({ numOutputs: E, inputDim: D, ...(options.seed === undefined ? {} : { seed: options.seed }) }),
    algorithm: new TopKChoice({ numExperts: E, k, gates: 'topKSoftmax', loadBalancingWeight: c.router_aux_loss_coef }),
  });
  const experts = new FeedForwardExperts({ numExperts: E, inputDim: D, hiddenDim: H, gated: 'swiglu', useBias: false, ...(options.seed === undefined ? {} : { seed: options.seed + 1 }) });
  return new MixtureOfExperts({ router, experts, capacity: { train: 0, eval: 0 }, name: options.name ?? 'block_sparse_moe' });
}

/** The router's gate kernel path and `k`, or a named error saying what does not fit Mixtral. */
function mixtralRouter(where: string, moe: MixtureOfExperts): { kernelPath: string; k: number; auxWeight: number } {
  const router = moe.router;
  if (router instanceof GatedRouter) {
    if (!(router.gate instanceof LinearGate)) throw new MoEArgumentError(where, 'moe.router.gate', "a LinearGate (Mixtral's gate is nn.Linear without bias)", componentName(router.gate));
    const algorithm = router.algorithm;
    if (!(algorithm instanceof TopKChoice)) throw new MoEArgumentError(where, 'moe.router.algorithm', 'a TopKChoice (Mixtral routes by softmax top-k)', componentName(algorithm));
    const { gating, gates, biasUpdateRate, expertBias } = algorithm.config;
    if (gating !== 'softmax' || gates !== 'topKSoftmax') {
      throw new MoEArgumentError(where, 'moe.router.algorithm', "TopKChoice with gating 'softmax' and gates 'topKSoftmax' (Mixtral renormalises the top-k softmax)", `gating '${gating}', gates '${String(gates)}'`);
    }
    if (biasUpdateRate !== 0 || expertBias !== undefined) throw new MoEArgumentError(where, 'moe.router.algorithm', 'TopKChoice without an expert bias (Mixtral has none)', 'an aux-loss-free bias');
    return { kernelPath: 'router/gate/kernel', k: algorithm.config.k, auxWeight: algorithm.config.loadBalancingWeight };
  }
  if (router instanceof TopKRouter) {
    const { noise, gates, secondExpertPolicy, k, cleanLoadWeight } = router.config;
    if (noise !== 'none' || gates !== 'topKSoftmax' || secondExpertPolicy !== 'all') {
      throw new MoEArgumentError(where, 'moe.router', "a TopKRouter with noise 'none', gates 'topKSoftmax' and secondExpertPolicy 'all' (Mixtral's routing)", `noise '${noise}', gates '${gates}', secondExpertPolicy '${secondExpertPolicy}'`);
    }
    return { kernelPath: 'router/kernel', k, auxWeight: cleanLoadWeight }; // Switch's E·Σ f_i·P_i over the noise-free top-k
  }
  throw new MoEArgumentError(where, 'moe.router', 'a GatedRouter(LinearGate, TopKChoice) or a noise-free TopKRouter (Mixtral routes by softmax top-k)', componentName(router));
}

/** The experts, checked to be Mixtral's (SwiGLU, no biases, output width = input width). */
function swigluExperts(where: string, moe: MixtureOfExperts): FeedForwardExperts {
  const experts = moe.experts;
  if (!(experts instanceof FeedForwardExperts)) throw new MoEArgumentError(where, 'moe.experts', 'FeedForwardExperts (Mixtral experts are SwiGLU FFNs)', componentName(experts));
  const { gated, useBias, inputDim, outputDim } = experts.config;
  if (gated !== 'swiglu') throw new MoEArgumentError(where, 'moe.experts.gated', "'swiglu' (Mixtral's w2(silu(w1 x) * w3 x))", `'${gated}'`);
  if (useBias) throw new MoEArgumentError(where, 'moe.experts.useBias', "false (Mixtral's experts have no biases)", 'true');
  if (outputDim !== undefined && inputDim !== undefined && outputDim !== inputDim) throw new MoEArgumentError(where, 'moe.experts.outputDim', `the input width ${inputDim} (Mixtral's experts map D to D)`, String(outputDim));
  if (moe.shared !== undefined) throw new MoEArgumentError(where, 'moe.shared', "no shared expert (Mixtral's block has none)", componentName(moe.shared));
  return experts;
}

/**
 * Checks that `moe` can be written in Mixtral's layout, and says what does not fit: a router other
 * than `GatedRouter(LinearGate, TopKChoice softmax 'topKSoftmax')` or a noise-free `TopKRouter`, an
 * expert bias, experts other than SwiGLU `FeedForwardExperts` without biases, a shared expert (each
 * an `MoEArgumentError` naming `moe.<part>`). Capacity is not checked: Mixtral is dropless, so an MoE
 * with a positive capacity factor computes something else whenever it drops.
 *
 * @example
 * ```ts
 * import { checkMixtralExportable } from '@moekit/hf';
 *
 * checkMixtralExportable(layer.moe); // throws e.g. "argument 'moe.experts.gated' expected 'swiglu' …, got 'none'"
 * ```
 */
export function checkMixtralExportable(moe: MixtureOfExperts): void {
  const where = 'checkMixtralExportable';
  if (!(moe instanceof MixtureOfExperts)) throw new MoEArgumentError(where, 'moe', 'a MixtureOfExperts (an MoELayer holds one as .moe)', String(moe));
  mixtralRouter(where, moe);
  swigluExperts(where, moe);
}

/** Whether the router kernel and the experts' w1, v, w2 all exist. */
function isBuilt(moe: MixtureOfExperts, kernelPath: string): boolean {
  const paths = new Set(moe.namedVariables().map(([path]) => path));
  return [kernelPath, 'experts/w1', 'experts/v', 'experts/w2'].every((path) => paths.has(path));
}

/** The layout of a built, checked moe: the gate and the three kernels per expert. */
function mixtralLayout(where: string, moe: MixtureOfExperts, prefix: string): LayoutVariable[] {
  if (typeof prefix !== 'string') throw new MoEArgumentError(where, 'prefix', "a string such as 'model.layers.0.block_sparse_moe.'", String(prefix));
  const { kernelPath } = mixtralRouter(where, moe);
  swigluExperts(where, moe);
  const variables = new Map<string, tf.Variable>(moe.namedVariables() as NamedVariable[]);
  const gate = variables.get(kernelPath);
  if (!isBuilt(moe, kernelPath)) throw new MoEArgumentError(where, 'moe', 'a built MixtureOfExperts (call moe.build([D]) or apply it once)', 'an MoE whose weights are not created yet');
  const E = moe.numExperts;
  const perExpert = (path: string, hfName: string): LayoutVariable => ({ path, variable: variables.get(path)!, names: Array.from({ length: E }, (_, i) => `${prefix}experts.${i}.${hfName}.weight`), perExpert: true });
  return [
    { path: kernelPath, variable: gate!, names: [`${prefix}gate.weight`], perExpert: false }, // [D, E] ↔ [E, D]
    perExpert('experts/w1', 'w1'), // [E, D, H] ↔ E × [H, D]
    perExpert('experts/w2', 'w2'), // [E, H, D] ↔ E × [D, H]
    perExpert('experts/v', 'w3'), // [E, D, H] ↔ E × [H, D]
  ];
}

/** The checkpoint names and shapes of `moe`'s Mixtral layout (for a whole-model loader's checks). @internal */
export function mixtralSparseMoeShapes(moe: MixtureOfExperts, prefix: string): Map<string, number[]> {
  return new Map(mixtralLayout('mixtralSparseMoeShapes', moe, prefix).flatMap((entry) => entry.names.map((name): [string, number[]] => [name, checkpointShape(entry)])));
}

/**
 * The weights of `moe` in Mixtral's layout: `${prefix}gate.weight` `[E, D]` and, for each expert `i`,
 * `${prefix}experts.${i}.w1.weight` `[H, D]`, `.w2.weight` `[D, H]`, `.w3.weight` `[H, D]` —
 * transposed copies of the router's gate kernel and of the experts' `w1`, `w2`, `v`, which the
 * caller owns (dispose them after encoding). `moe` must be built and pass {@link checkMixtralExportable}.
 *
 * @param prefix the block's name in the model, e.g. `'model.layers.0.block_sparse_moe.'`.
 * @example
 * ```ts
 * import { encodeSafetensors, mixtralSparseMoeTensors } from '@moekit/hf';
 *
 * const tensors = mixtralSparseMoeTensors(moe, 'model.layers.0.block_sparse_moe.');
 * const bytes = await encodeSafetensors(tensors, { metadata: { format: 'pt' } });
 * tf.dispose([...tensors.values()]);
 * ```
 */
export function mixtralSparseMoeTensors(moe: MixtureOfExperts, prefix: string): Map<string, tf.Tensor> {
  return exportLayout(mixtralLayout('mixtralSparseMoeTensors', moe, prefix));
}

/**
 * Loads Mixtral-layout weights (see {@link mixtralSparseMoeTensors}) into `moe`'s variables, building
 * an unbuilt `moe` for the gate's width first. Every expected name must be present, float32, with its
 * exact shape, and no other name may start with `prefix`; otherwise an `MoEArgumentError` names the
 * tensor, the expected and the actual shape (or says the name is not part of the layout). Everything
 * is checked before anything is assigned, so a failed load leaves the weights as they were. Does
 * not dispose `tensors`; creates no tensor that outlives the call.
 *
 * @param tensors checkpoint tensors by name (e.g. from `decodeSafetensors` or `loadHfCheckpoint`).
 * @param prefix the block's name in the model, e.g. `'model.layers.0.block_sparse_moe.'`.
 * @example
 * ```ts
 * import { decodeSafetensors, loadMixtralSparseMoe } from '@moekit/hf';
 *
 * const { tensors } = decodeSafetensors(bytes);
 * loadMixtralSparseMoe(moe, tensors, 'model.layers.0.block_sparse_moe.');
 * tf.dispose([...tensors.values()]);
 * ```
 */
export function loadMixtralSparseMoe(moe: MixtureOfExperts, tensors: ReadonlyMap<string, tf.Tensor>, prefix: string): void {
  const where = 'loadMixtralSparseMoe';
  if (!(moe instanceof MixtureOfExperts)) throw new MoEArgumentError(where, 'moe', 'a MixtureOfExperts (an MoELayer holds one as .moe)', String(moe));
  const { kernelPath } = mixtralRouter(where, moe);
  swigluExperts(where, moe);
  if (!isBuilt(moe, kernelPath)) moe.build([gateInputWidth(where, tensors, `${prefix}gate.weight`, moe.numExperts)]); // a no-op for the parts already built
  importLayout(where, 'Mixtral', mixtralLayout(where, moe, prefix), tensors, prefix);
}

/**
 * The `config.json` fields of Mixtral's MoE block that `moe` corresponds to: widths and counts from
 * its weights, `router_aux_loss_coef` from its load-balancing weight, `output_router_logits: true`
 * when that weight is positive (so HF training adds the loss, as moekit's does). `moe` must be built
 * and pass {@link checkMixtralExportable}.
 *
 * @example
 * ```ts
 * import { mixtralConfig } from '@moekit/hf';
 *
 * const config = { model_type: 'mixtral', architectures: ['MixtralForCausalLM'], ...mixtralConfig(moe) };
 * ```
 */
export function mixtralConfig(moe: MixtureOfExperts): MixtralMoEConfigJson {
  const where = 'mixtralConfig';
  const layout = mixtralLayout(where, moe, '');
  const { k, auxWeight } = mixtralRouter(where, moe);
  const [, w1] = layout; // experts/w1 [E, D, H]
  return {
    hidden_size: w1!.variable.shape[1]!,
    intermediate_size: w1!.variable.shape[2]!,
    num_local_experts: moe.numExperts,
    num_experts_per_tok: k,
    router_aux_loss_coef: auxWeight,
    router_jitter_noise: 0,
    hidden_act: 'silu',
    output_router_logits: auxWeight > 0,
  };
}
