import * as tf from '@tensorflow/tfjs-core';
import { arg, checkRank, Component, expectTokenChoice, MoEArgumentError, routerZLoss, type ArgsTable, type AuxLosses, type Router } from '@moekit/core';
import { RotaryEmbedding } from '@moekit/transformer';
import { causalMask } from './causal-mask.js';

/** Configuration of a {@link MixtureOfAttentionHeads}. */
export interface MixtureOfAttentionHeadsArgs {
  /** Any moekit token-choice router over `E` experts choosing `K` per token (e.g. {@link jetMoERouter}); its `K` sets the heads per token. */
  router: Router;
  /** Model width `D` (≥ 1). */
  hiddenSize: number;
  /** Heads per expert `G` (JetMoE `num_key_value_heads`): each expert owns `G` query heads and the shared keys/values have `G` heads. Default 1. */
  numKeyValueHeads?: number;
  /** Per-head width `d` (even, JetMoE `kv_channels`). Default `hiddenSize / (K·G)`. */
  headDim?: number;
  /** Rotary base `θ` (see `RotaryEmbedding`). Default 10000 (JetMoE's `rope_theta`). */
  ropeTheta?: number;
  /** Weight of the router z-loss (Zoph et al. 2022, Eq. 5) on the router's logits. Default 0.001 (JetMoE: 0.01 · 0.1). */
  zLossWeight?: number;
  /** Add the output bias `[D]` (zeros at start; JetMoE's `MoE(bias=True)`). Default `true`. */
  useBias?: boolean;
  /** Std of the normal initialiser of the projections. Default 0.02. */
  initializerRange?: number;
  /** Seed of the initialisers. */
  seed?: number;
}

/** A {@link MixtureOfAttentionHeads}'s arguments with the defaults filled in. */
export interface MixtureOfAttentionHeadsConfig extends Required<Omit<MixtureOfAttentionHeadsArgs, 'seed'>>, Pick<MixtureOfAttentionHeadsArgs, 'seed'> {}

/** What {@link MixtureOfAttentionHeads.apply} returns; the caller disposes the tensors. */
export interface MixtureOfAttentionHeadsOutput {
  /** The attention output `[B, S, D]`. */
  output: tf.Tensor3D;
  /** The router's aux losses plus `routerZ`; `total` is weighted (add it to the task loss). */
  auxLosses: AuxLosses;
  /** The router's logits `[B·S, E]`. */
  logits: tf.Tensor2D;
  /** The chosen experts `[B·S, K]` int32 (−1: choice unused). */
  expertIndex: tf.Tensor2D;
  /** Pairs routed to each expert `[E]` (float32, summing to `B·S·K` less unused choices). */
  load: tf.Tensor1D;
}

/**
 * Mixture of attention heads (Zhang et al. 2022, "Mixture of Attention Heads: Selecting Attention
 * Heads Per Token", §3.1–3.2, Eqs. 3–6, https://arxiv.org/abs/2210.05144), in JetMoE's wiring
 * (Shen et al. 2024, §2.2, https://arxiv.org/abs/2404.07413; `myshell-ai/JetMoE`
 * `jetmoe/modeling_jetmoe.py` `JetMoEAttention` and `jetmoe/utils/moe.py` `MoE.map`/`reduce`,
 * commit 235392e9). The router picks `K` of `E` attention experts per token with gates `g_{t,k}`;
 * expert `e` owns a query projection `W_q^e` `[D, G·d]` and an output projection `W_o^e` `[G·d, D]`;
 * keys and values `K = x·W_k`, `V = x·W_v` (`[D, G·d]` each) are shared by all experts:
 *
 * `y_t = Σ_k g_{t,k} · Attn(x_t·W_q^{e(t,k)}, K, V) · W_o^{e(t,k)} + b` (MoA Eq. 3–5),
 * `Attn(q, K, V) = softmax(q·Kᵀ/√d + causal mask)·V` per head (Vaswani et al. 2017 Eq. 1), with RoPE on
 * queries and keys (half-split, as JetMoE/Llama). Per token there are `K·G` query heads, head `k·G + g`
 * reading key/value head `g` (JetMoE's `key_states.repeat(1, top_k, 1, 1)`); `b` `[D]` is JetMoE's
 * output bias. Nothing is dropped: every choice is computed (JetMoE is dropless).
 *
 * Why a layer and not an `ExpertBank` in core's `MixtureOfExperts`: an attention expert's output for a
 * token needs every earlier token's keys and values, and its `K` choices must stay apart between the
 * query projection and the output projection (core's combine would sum them). So the layer calls the
 * router exactly as `MixtureOfExperts` does (any token-choice `Router`, its aux losses unchanged) and
 * does the two projections itself: all `E` query projections in one matMul then a one-hot selection
 * (`[T, K, E]·[T, E, G·d]`), and the output side as one `[T, E·G·d]·[E·G·d, D]` matMul after placing
 * each choice's gated context in its expert's block. Exact and differentiable, but `E/K` times the
 * projection FLOPs of a sparse kernel: the layout for small `E` on CPU, not for large ones.
 * The gates reach the router's gradient through `g_{t,k}` (a gather of `probs`) and its aux losses.
 *
 * Variables: `qProj` `[E, D, G·d]`, `kProj`, `vProj` `[D, G·d]`, `oProj` `[E, G·d, D]`, `bias` `[D]`,
 * the router's under `router/`.
 *
 * @example
 * ```ts
 * const moa = new MixtureOfAttentionHeads({ router: jetMoERouter({ numExperts: 8, k: 2, inputDim: 64 }), hiddenSize: 64, headDim: 16, seed: 1 });
 * const { output, auxLosses } = moa.apply(x, { training: true }); // x [B, S, 64] → [B, S, 64]
 * ```
 */
export class MixtureOfAttentionHeads extends Component<MixtureOfAttentionHeadsArgs, MixtureOfAttentionHeadsConfig> {
  /** Name under which the class is registered for (de)serialisation. */
  static readonly className = 'MixtureOfAttentionHeads';
  /** The arguments. */
  static readonly argsTable: ArgsTable<MixtureOfAttentionHeadsArgs> = {
    router: arg.component<Router>(),
    hiddenSize: arg.integer({ min: 1 }),
    numKeyValueHeads: arg.integer({ min: 1, default: 1 }),
    headDim: arg.integer({
      min: 2,
      defaultFrom: (r) => Math.floor((r['hiddenSize'] as number) / ((r['router'] as Router).k * (r['numKeyValueHeads'] as number))),
    }),
    ropeTheta: arg.number({ above: 0, default: 10000 }),
    zLossWeight: arg.number({ min: 0, default: 0.001 }),
    useBias: arg.boolean({ default: true }),
    initializerRange: arg.number({ above: 0, default: 0.02 }),
    seed: arg.number({ optional: true }),
  };
  private readonly rope: RotaryEmbedding;

  /** Validates the arguments, builds the router for width `D` and creates the projections. */
  constructor(args: MixtureOfAttentionHeadsArgs) {
    super(args);
    const { router, hiddenSize: D, numKeyValueHeads: G, headDim: d, initializerRange: std } = this.config;
    if (router.inputDim !== undefined && router.inputDim !== D) {
      throw new MoEArgumentError('MixtureOfAttentionHeads', 'router', `a router for inputs of width ${D} (hiddenSize)`, `a router built for width ${router.inputDim}`);
    }
    router.build?.(D);
    const E = router.numExperts;
    this.rope = this.addPart('rope', new RotaryEmbedding({ headDim: d, theta: this.config.ropeTheta }));
    const normal = (shape: number[]) => tf.randomNormal(shape, 0, std, 'float32', this.seeds.next());
    this.addVariable('qProj', normal([E, D, G * d]));
    this.addVariable('kProj', normal([D, G * d]));
    this.addVariable('vProj', normal([D, G * d]));
    this.addVariable('oProj', normal([E, G * d, D]));
    if (this.config.useBias) this.addVariable('bias', tf.zeros([D]));
  }

  /** The router. */
  get router(): Router {
    return this.config.router;
  }

  /** Experts `E`. */
  get numExperts(): number {
    return this.router.numExperts;
  }

  /** Experts per token `K`. */
  get k(): number {
    return this.router.k;
  }

  /** `x` `[B, S, D]` → `[B, S, D]`, position `s` attending to positions `≤ s` through its `K` routed experts. */
  apply(x: tf.Tensor, options: { training: boolean }): MixtureOfAttentionHeadsOutput {
    const where = 'MixtureOfAttentionHeads.apply';
    this.assertLive(where);
    const [wq, wk, wv, wo] = (['qProj', 'kProj', 'vProj', 'oProj'] as const).map((name) => this.variable(name, where));
    checkRank(where, 'x', x, 3);
    const { hiddenSize: D, numKeyValueHeads: G, headDim: d, zLossWeight, useBias } = this.config;
    if (x.shape[2] !== D) throw new MoEArgumentError(where, 'x', `a last axis of ${D} (hiddenSize)`, `shape [${x.shape.join(', ')}]`);
    const [B, S] = x.shape as [number, number, number];
    const T = B * S;
    const E = this.numExperts;
    const K = this.k;
    const Gd = G * d;
    return tf.tidy(() => {
      const x2 = tf.reshape(x, [T, D]) as tf.Tensor2D; // [T, D]
      const routed = expectTokenChoice(this.router.route(x2, { training: options.training }), where);
      const choice = tf.oneHot(tf.cast(routed.expertIndex, 'int32'), E, 1, 0, 'float32') as tf.Tensor3D; // [T, K, E]; −1 → a zero row
      // g_{t,k} = probs[t, e(t,k)] (MoA Eq. 3: the gate of each chosen head; topKSoftmax: softmax over the top-k logits)
      const gates = tf.sum(tf.mul(choice, tf.expandDims(routed.probs, 1)), 2); // [T, K]
      // map (JetMoE MoE.map): q_{t,k} = x_t · W_q^{e(t,k)}, all E projections then a one-hot selection
      const qAll = tf.reshape(tf.matMul(x2, tf.reshape(tf.transpose(wq!, [1, 0, 2]), [D, E * Gd])), [T, E, Gd]); // [T, E, G·d]
      const q = tf.matMul(choice, qAll); // [T, K, G·d]
      const qHeads = this.rope.apply(tf.transpose(tf.reshape(q, [B, S, K * G, d]), [0, 2, 1, 3])); // [B, K·G, S, d], head k·G + g
      const kvHeads = (w: tf.Tensor) => tf.transpose(tf.reshape(tf.matMul(x2, w as tf.Tensor2D), [B, S, G, d]), [0, 2, 1, 3]); // [B, G, S, d]
      // JetMoE's repeat(1, top_k, 1, 1): query head k·G + g reads shared key/value head g
      const repeat = (t: tf.Tensor) => (K === 1 ? t : tf.gather(t, tf.tensor1d(Array.from({ length: K * G }, (_, h) => h % G), 'int32'), 1)); // [B, K·G, S, d]
      const keys = repeat(this.rope.apply(kvHeads(wk!)));
      const values = repeat(kvHeads(wv!));
      const scores = tf.add(tf.mul(tf.matMul(qHeads, keys, false, true), 1 / Math.sqrt(d)), causalMask(S)); // [B, K·G, S, S]
      const context = tf.reshape(tf.transpose(tf.matMul(tf.softmax(scores), values), [0, 2, 1, 3]), [T, K, Gd]); // [T, K, G·d]
      // reduce (JetMoE MoE.reduce): y_t = Σ_k g_{t,k} · context_{t,k} · W_o^{e(t,k)} — each gated choice placed in its expert's block
      const placed = tf.matMul(choice, tf.mul(context, tf.expandDims(gates, 2)), true, false); // [T, E, G·d]
      let y = tf.matMul(tf.reshape(placed, [T, E * Gd]), tf.reshape(wo!, [E * Gd, D])); // [T, D]
      if (useBias) y = tf.add(y, this.variable('bias', where));
      const zLoss = routerZLoss(routed.logits); // ST-MoE Eq. 5, unweighted
      const auxLosses: AuxLosses = { ...routed.auxLosses, routerZ: zLoss, total: tf.add(routed.auxLosses.total, tf.mul(zLossWeight, zLoss)) as tf.Scalar };
      return {
        output: tf.reshape(y, [B, S, D]) as tf.Tensor3D,
        auxLosses,
        logits: routed.logits,
        expertIndex: tf.cast(routed.expertIndex, 'int32') as tf.Tensor2D,
        load: tf.sum(choice, [0, 1]) as tf.Tensor1D,
      };
    });
  }
}
