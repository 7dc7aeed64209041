import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { MoEArgumentError } from '@moekit/core';
import { MoELayer, type MoELayerArgs } from '@moekit/layers';

type LayerArgs = NonNullable<ConstructorParameters<typeof tfl.layers.Layer>[0]>;

/** Configuration of a {@link ShortcutMoEBlock}. */
export interface ShortcutMoEBlockArgs extends LayerArgs {
  /** Attention heads of both blocks; the width (the input's last dim) must be a multiple. Default 4. */
  numHeads?: number;
  /** Mask attention to later positions (a decoder / language-model block pair). Default `false`. */
  causal?: boolean;
  /** Hidden width of the dense MLP of block `l − 1` and of the shared expert of block `l`. */
  hiddenDim: number;
  /**
   * What the shortcut carries from block `l − 1` to block `l`'s MoE: `'attention'` (default) the
   * representation after block `l − 1`'s attention (`h₁`), so the MoE's dispatch can overlap that
   * block's MLP and the next block's attention; `'block'` block `l − 1`'s output (`x₁`).
   */
  shortcutFrom?: 'attention' | 'block';
  /** Layer-norm ε. Default 1e-5. */
  epsilon?: number;
  /** The shortcut MoE (the paper's is top-1): a `MoELayer`, or the arguments to build one. */
  moe: MoELayer | MoELayerArgs;
  /** Seed of the attention and MLP initialisers. */
  seed?: number;
}

type Weight = tfl.LayerVariable;
interface Attention { wq: Weight; wk: Weight; wv: Weight; wo: Weight }
interface Mlp { w1: Weight; b1: Weight; w2: Weight; b2: Weight }
interface Norm { gamma: Weight; beta: Weight }

/**
 * A shortcut-connected MoE block pair (ScMoE; Cai et al., "Shortcut-connected Expert Parallelism for
 * Accelerating Mixture of Experts", ICML 2025, https://arxiv.org/abs/2404.05019, §3): two pre-norm
 * Transformer blocks where block `l`'s MoE reads block `l − 1`'s representation through a shortcut,
 * beside a shared expert (a dense MLP) on block `l`'s own representation:
 *
 * ```
 * h₁ = x  + MHA₁(LN₁(x))                       block l − 1: attention
 * x₁ = h₁ + MLP(LN₂(h₁))                        block l − 1: dense MLP
 * h₂ = x₁ + MHA₂(LN₃(x₁))                       block l: attention
 * y  = h₂ + SE(LN₄(h₂)) + MoE(LN₅(s)),  s = h₁ (shortcutFrom 'attention') or x₁ ('block')
 * ```
 *
 * Because the MoE's input `s` is ready before block `l`'s attention (and, for `h₁`, before block
 * `l − 1`'s MLP), a multi-device implementation overlaps its all-to-all dispatch and combine with that
 * compute. In one process (moekit today) the arithmetic is the same and nothing overlaps: the block is
 * here for its model quality. Input and output `[B, S, D]`; the MoE routes every position; its
 * weights and aux loss are forwarded as the block's own.
 *
 * @example
 * ```ts
 * import { FeedForwardExperts, ShortcutMoEBlock } from '@moekit/experts-ffn';
 * import { TopKRouter } from '@moekit/router-topk';
 *
 * const pair = new ShortcutMoEBlock({ numHeads: 4, hiddenDim: 128, moe: { router: new TopKRouter({ numExperts: 8, k: 1 }),
 *   experts: new FeedForwardExperts({ numExperts: 8, hiddenDim: 128 }) } });
 * ```
 */
export class ShortcutMoEBlock extends tfl.layers.Layer {
  /** Name under which the class is registered for (de)serialisation. */
  static readonly className = 'ShortcutMoEBlock';
  /** The shortcut MoE of block `l`. */
  readonly moe: MoELayer;
  /** Attention heads. */
  readonly numHeads: number;
  /** Whether attention is causal. */
  readonly causal: boolean;
  /** Hidden width of the dense MLP and the shared expert. */
  readonly hiddenDim: number;
  /** Which representation of block `l − 1` the MoE reads. */
  readonly shortcutFrom: 'attention' | 'block';
  private readonly epsilon: number;
  private readonly seed: number | undefined;
  private parts: { attention: [Attention, Attention]; mlp: Mlp; sharedExpert: Mlp; norms: Norm[] } | undefined;

  /** Validates the arguments and builds (or adopts) the MoE. */
  constructor(args: ShortcutMoEBlockArgs) {
    const { numHeads, causal, hiddenDim, shortcutFrom, epsilon, moe, seed, ...layerArgs } = args;
    super(layerArgs);
    this.numHeads = numHeads ?? 4;
    if (!Number.isInteger(this.numHeads) || this.numHeads < 1) throw new MoEArgumentError('ShortcutMoEBlock', 'numHeads', 'an integer >= 1', String(numHeads));
    if (!Number.isInteger(hiddenDim) || hiddenDim < 1) throw new MoEArgumentError('ShortcutMoEBlock', 'hiddenDim', 'an integer >= 1', String(hiddenDim));
    this.hiddenDim = hiddenDim;
    this.shortcutFrom = shortcutFrom ?? 'attention';
    if (!['attention', 'block'].includes(this.shortcutFrom)) throw new MoEArgumentError('ShortcutMoEBlock', 'shortcutFrom', "one of 'attention' | 'block'", `'${String(shortcutFrom)}'`);
    this.causal = causal ?? false;
    this.epsilon = epsilon ?? 1e-5;
    this.seed = seed;
    if (moe === undefined) throw new MoEArgumentError('ShortcutMoEBlock', 'moe', 'a MoELayer or its arguments', 'undefined');
    this.moe = moe instanceof MoELayer ? moe : new MoELayer(moe);
    this.addLoss(() => this.moe.auxLoss ?? tf.scalar(0)); // the MoE's aux loss joins the model's
  }

  /** Creates both blocks' attention, norm and MLP weights, builds the MoE and forwards its weights. */
  override build(inputShape: tfl.Shape | tfl.Shape[]): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tfl.Shape;
    const dim = shape[shape.length - 1];
    if (shape.length !== 3 || typeof dim !== 'number') throw new MoEArgumentError('ShortcutMoEBlock.build', 'inputShape', '[batch, sequence, D] with D known', `[${shape.join(', ')}]`);
    if (dim % this.numHeads !== 0) throw new MoEArgumentError('ShortcutMoEBlock.build', 'inputShape', `a width divisible by numHeads ${this.numHeads}`, `D = ${dim}`);
    let s = this.seed;
    const glorot = () => tfl.initializers.glorotUniform({ seed: s === undefined ? undefined : s++ });
    const matrix = (name: string, rows: number, cols: number) => this.addWeight(name, [rows, cols], 'float32', glorot());
    const vector = (name: string, n: number, init: 'ones' | 'zeros') => this.addWeight(name, [n], 'float32', init === 'ones' ? tfl.initializers.ones() : tfl.initializers.zeros());
    const attention = (p: string): Attention => ({ wq: matrix(`${p}_wq`, dim, dim), wk: matrix(`${p}_wk`, dim, dim), wv: matrix(`${p}_wv`, dim, dim), wo: matrix(`${p}_wo`, dim, dim) });
    const mlp = (p: string): Mlp => ({ w1: matrix(`${p}_w1`, dim, this.hiddenDim), b1: vector(`${p}_b1`, this.hiddenDim, 'zeros'), w2: matrix(`${p}_w2`, this.hiddenDim, dim), b2: vector(`${p}_b2`, dim, 'zeros') });
    const norm = (i: number): Norm => ({ gamma: vector(`ln${i}_gamma`, dim, 'ones'), beta: vector(`ln${i}_beta`, dim, 'zeros') });
    this.parts = { attention: [attention('attn1'), attention('attn2')], mlp: mlp('mlp'), sharedExpert: mlp('shared'), norms: [1, 2, 3, 4, 5].map(norm) };
    this.moe.build(shape);
    // forward the MoE's weights as this block's own (tfjs-layers does not track nested layers)
    this.trainableWeights = [...this.trainableWeights, ...this.moe.trainableWeights];
    this.nonTrainableWeights = [...this.nonTrainableWeights, ...this.moe.nonTrainableWeights];
    this.built = true;
  }

  /** Releases the block's weights and, once no model holds it, its MoE's components. */
  override dispose(): ReturnType<tfl.layers.Layer['dispose']> {
    const result = super.dispose();
    if (result.refCountAfterDispose === 0) this.moe.releaseComponents();
    return result;
  }

  /** `[B, S, D]` → `[B, S, D]`. */
  override computeOutputShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape {
    return (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tfl.Shape;
  }

  /** Layer norm over the last axis (Ba et al. 2016). */
  private layerNorm(x: tf.Tensor, n: Norm): tf.Tensor {
    const { mean, variance } = tf.moments(x, -1, true);
    return tf.add(tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, this.epsilon))), n.gamma.read()), n.beta.read());
  }

  /** Position-wise `W₂·gelu(W₁x + b₁) + b₂` on `[B, S, D]`. */
  private feedForward(x: tf.Tensor, m: Mlp): tf.Tensor {
    const [batch, length, dim] = x.shape as [number, number, number];
    const hidden = tf.add(tf.matMul(tf.reshape(x, [-1, dim]), m.w1.read() as tf.Tensor2D), m.b1.read()); // [B·S, H]
    const gelu = tf.mul(tf.mul(hidden, 0.5), tf.add(1, tf.tanh(tf.mul(Math.sqrt(2 / Math.PI), tf.add(hidden, tf.mul(0.044715, tf.pow(hidden, 3))))))); // Hendrycks & Gimpel 2016, tanh form
    return tf.reshape(tf.add(tf.matMul(gelu as tf.Tensor2D, m.w2.read() as tf.Tensor2D), m.b2.read()), [batch, length, dim]);
  }

  /** Multi-head scaled dot-product self-attention (Vaswani et al. 2017, Eq. 1), `[B, S, D]`. */
  private selfAttention(x: tf.Tensor, a: Attention): tf.Tensor {
    const [batch, length, dim] = x.shape as [number, number, number];
    const heads = this.numHeads;
    const headDim = dim / heads;
    const project = (w: Weight) => tf.transpose(tf.reshape(tf.matMul(tf.reshape(x, [-1, dim]), w.read() as tf.Tensor2D), [batch, length, heads, headDim]), [0, 2, 1, 3]); // [B, h, S, dh]
    const [q, k, v] = [project(a.wq), project(a.wk), project(a.wv)];
    let scores = tf.div(tf.matMul(q as tf.Tensor4D, k as tf.Tensor4D, false, true), Math.sqrt(headDim)); // [B, h, S, S]
    if (this.causal) scores = tf.add(scores, tf.mul(tf.sub(1, tf.linalg.bandPart(tf.ones([length, length]), -1, 0)), -1e9)); // −∞ above the diagonal
    const attended = tf.matMul(tf.softmax(scores) as tf.Tensor4D, v as tf.Tensor4D); // [B, h, S, dh]
    return tf.reshape(tf.matMul(tf.reshape(tf.transpose(attended, [0, 2, 1, 3]), [-1, dim]), a.wo.read() as tf.Tensor2D), [batch, length, dim]);
  }

  /** The block pair of the class comment: `y = h₂ + SE(LN₄(h₂)) + MoE(LN₅(s))`. */
  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: { training?: boolean }): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0]! : inputs; // [B, S, D]
    const { attention, mlp, sharedExpert, norms } = this.parts!;
    return tf.tidy(() => {
      const h1 = tf.add(x, this.selfAttention(this.layerNorm(x, norms[0]!), attention[0])); // [B, S, D] block l − 1 after attention
      const x1 = tf.add(h1, this.feedForward(this.layerNorm(h1, norms[1]!), mlp)); // [B, S, D] block l − 1's output
      const h2 = tf.add(x1, this.selfAttention(this.layerNorm(x1, norms[2]!), attention[1])); // [B, S, D] block l after attention
      const shortcut = this.shortcutFrom === 'attention' ? h1 : x1; // ScMoE: the MoE reads the preceding block (Cai et al., §3)
      const routed = this.moe.call(this.layerNorm(shortcut, norms[4]!), kwargs); // [B, S, D]
      const auxLoss = this.moe.auxLoss;
      if (auxLoss !== undefined) tf.keep(auxLoss); // must outlive this tidy: fit reads it after the forward pass
      return tf.add(tf.add(h2, this.feedForward(this.layerNorm(h2, norms[3]!), sharedExpert)), routed);
    });
  }

  /** Heads, causality, widths, shortcut, ε and the MoE's config. */
  override getConfig(): tf.serialization.ConfigDict {
    return {
      ...super.getConfig(),
      numHeads: this.numHeads,
      causal: this.causal,
      hiddenDim: this.hiddenDim,
      shortcutFrom: this.shortcutFrom,
      epsilon: this.epsilon,
      ...(this.seed !== undefined ? { seed: this.seed } : {}),
      moe: this.moe.getConfig(),
    };
  }

  /** Rebuilds the block pair and its MoE. */
  static override fromConfig<T extends tf.serialization.Serializable>(cls: tf.serialization.SerializableConstructor<T>, config: tf.serialization.ConfigDict): T {
    const { moe, ...rest } = config;
    return new cls({ ...rest, moe: MoELayer.fromConfig(MoELayer, moe as tf.serialization.ConfigDict) });
  }
}
