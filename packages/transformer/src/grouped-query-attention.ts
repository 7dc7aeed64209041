import * as tf from '@tensorflow/tfjs-core';
import { arg, checkRank, Component, MoEArgumentError, type ArgsTable } from '@moekit/core';
import { RotaryEmbedding } from './rotary-embedding.js';

/** Configuration of a {@link GroupedQueryAttention}. */
export interface GroupedQueryAttentionArgs {
  /** Model width `D` (≥ 1). */
  hiddenSize: number;
  /** Query heads `H` (≥ 1). */
  numHeads: number;
  /** Key/value heads `G`, dividing `H`: `H` is multi-head attention, 1 multi-query. Default `numHeads`. */
  numKeyValueHeads?: number;
  /** Per-head width `d` (even). Default `hiddenSize / numHeads`. */
  headDim?: number;
  /** Rotary base `θ` (see {@link RotaryEmbedding}). Default 1e6 (Mixtral). */
  ropeTheta?: number;
  /** Each position attends to at most this many positions, itself included (Mistral's sliding window); 0: no window. Default 0. */
  slidingWindow?: number;
  /** Standard deviation of the normal initialiser of the projections. Default 0.02 (HF `initializer_range`). */
  initializerRange?: number;
  /** Causal (decoder) attention; `false`: every position attends to every position, as in a BERT-style encoder (then `slidingWindow` must be 0). Default true. */
  causal?: boolean;
  /** Seed of the initialiser. */
  seed?: number;
}

/** A {@link GroupedQueryAttention}'s arguments with the defaults filled in. */
export interface GroupedQueryAttentionConfig extends Required<Omit<GroupedQueryAttentionArgs, 'seed'>>, Pick<GroupedQueryAttentionArgs, 'seed'> {}

/** The additive causal mask `[S, S]`: 0 where key `j` may be seen from query `i` (`j ≤ i`, and `i − j < window`), a large negative number elsewhere. */
function causalMask(seqLen: number, slidingWindow: number): tf.Tensor2D {
  return tf.tidy(() => {
    const query = tf.expandDims(tf.range(0, seqLen, 1, 'int32'), 1); // [S, 1]
    const key = tf.expandDims(tf.range(0, seqLen, 1, 'int32'), 0); // [1, S]
    let allowed = tf.lessEqual(key, query); // [S, S]
    if (slidingWindow > 0) allowed = tf.logicalAnd(allowed, tf.less(tf.sub(query, key), slidingWindow));
    // HF adds finfo(float32).min; any number whose exp underflows to 0 gives the same softmax
    return tf.where(allowed, tf.zeros([seqLen, seqLen]), tf.fill([seqLen, seqLen], -1e9)) as tf.Tensor2D;
  });
}

/**
 * Causal self-attention with grouped key/value heads (Ainslie et al. 2023, "GQA", §2.2,
 * https://arxiv.org/abs/2305.13245) and rotary positions — HF's `MixtralAttention` with
 * `eager_attention_forward`: `q = xWq`, `k = xWk`, `v = xWv` (no biases), RoPE on `q` and `k`, each
 * key/value head serving `H/G` consecutive query heads (`repeat_kv`),
 * `softmax(q·kᵀ/√d + mask)·v` (Vaswani et al. 2017, Eq. 1), heads concatenated, then `Wo`.
 * Weights are `[in, out]` (`qProj` `[D, H·d]`, `kProj`/`vProj` `[D, G·d]`, `oProj` `[H·d, D]`): HF's
 * `[out, in]` transposed.
 *
 * @example
 * ```ts
 * const attention = new GroupedQueryAttention({ hiddenSize: 32, numHeads: 4, numKeyValueHeads: 2 });
 * const y = attention.apply(x); // x [B, S, 32] → y [B, S, 32]
 * ```
 */
export class GroupedQueryAttention extends Component<GroupedQueryAttentionArgs, GroupedQueryAttentionConfig> {
  /** Name under which the class is registered for (de)serialisation. */
  static readonly className = 'GroupedQueryAttention';
  /** The arguments. */
  static readonly argsTable: ArgsTable<GroupedQueryAttentionArgs> = {
    hiddenSize: arg.integer({ min: 1 }),
    numHeads: arg.integer({ min: 1 }),
    numKeyValueHeads: arg.integer({
      min: 1,
      defaultFrom: (r) => r['numHeads'] as number,
      max: (r) => r['numHeads'] as number,
    }),
    headDim: arg.integer({ min: 2, defaultFrom: (r) => Math.floor((r['hiddenSize'] as number) / (r['numHeads'] as number)) }),
    ropeTheta: arg.number({ above: 0, default: 1e6 }),
    slidingWindow: arg.integer({ min: 0, default: 0 }),
    initializerRange: arg.number({ above: 0, default: 0.02 }),
    causal: arg.boolean({ default: true }),
    seed: arg.number({ optional: true }),
  };
  private readonly rope: RotaryEmbedding;

  /** Validates the arguments (`numKeyValueHeads` divides `numHeads`) and creates the projections. */
  constructor(args: GroupedQueryAttentionArgs) {
    super(args);
    const { hiddenSize: D, numHeads: H, numKeyValueHeads: G, headDim: d, initializerRange: std } = this.config;
    if (H % G !== 0) throw new MoEArgumentError('GroupedQueryAttention', 'numKeyValueHeads', `a divisor of numHeads (${H})`, String(G));
    if (!this.config.causal && this.config.slidingWindow > 0) throw new MoEArgumentError('GroupedQueryAttention', 'slidingWindow', '0 when causal is false', String(this.config.slidingWindow));
    this.rope = this.addPart('rope', new RotaryEmbedding({ headDim: d, theta: this.config.ropeTheta }));
    const normal = (shape: [number, number]) => tf.randomNormal(shape, 0, std, 'float32', this.seeds.next());
    this.addVariable('qProj', normal([D, H * d]));
    this.addVariable('kProj', normal([D, G * d]));
    this.addVariable('vProj', normal([D, G * d]));
    this.addVariable('oProj', normal([H * d, D]));
  }

  /** `x` `[B, S, D]` → `[B, S, D]`, position `s` attending to positions `≤ s` (within the sliding window), or to all positions when not `causal`. */
  apply(x: tf.Tensor): tf.Tensor3D {
    const where = 'GroupedQueryAttention.apply';
    const [wq, wk, wv, wo] = (['qProj', 'kProj', 'vProj', 'oProj'] as const).map((name) => this.variable(name, where));
    checkRank(where, 'x', x, 3);
    const { hiddenSize: D, numHeads: H, numKeyValueHeads: G, headDim: d, slidingWindow } = this.config;
    const [B, S] = x.shape as [number, number, number];
    if (x.shape[2] !== D) throw new MoEArgumentError(where, 'x', `a last axis of ${D} (hiddenSize)`, `shape [${x.shape.join(', ')}]`);
    return tf.tidy(() => {
      const x2 = tf.reshape(x, [B * S, D]); // [B·S, D]
      const heads = (w: tf.Tensor, n: number) => tf.transpose(tf.reshape(tf.matMul(x2, w as tf.Tensor2D), [B, S, n, d]), [0, 2, 1, 3]); // [B, n, S, d]
      const q = this.rope.apply(heads(wq!, H)); // [B, H, S, d]
      // repeat_kv: query head h reads key/value head ⌊h / (H/G)⌋ (a gather: tfjs has no gradient for a rank-5 tile)
      const kvHead = tf.tensor1d(Array.from({ length: H }, (_, h) => Math.floor(h / (H / G))), 'int32'); // [H]
      const repeat = (t: tf.Tensor) => (G === H ? t : tf.gather(t, kvHead, 1)); // [B, H, S, d]
      const k = repeat(this.rope.apply(heads(wk!, G)));
      const v = repeat(heads(wv!, G));
      const scaled = tf.mul(tf.matMul(q, k, false, true), 1 / Math.sqrt(d)); // [B, H, S, S]
      const scores = this.config.causal ? tf.add(scaled, causalMask(S, slidingWindow)) : scaled; // [B, H, S, S]
      const context = tf.matMul(tf.softmax(scores), v); // [B, H, S, d]
      const merged = tf.reshape(tf.transpose(context, [0, 2, 1, 3]), [B * S, H * d]); // [B·S, H·d]
      return tf.reshape(tf.matMul(merged, wo as tf.Tensor2D), [B, S, D]) as tf.Tensor3D;
    });
  }
}
