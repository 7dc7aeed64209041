import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { MoEArgumentError } from '@moekit/core';
import { MoELayer, type MoELayerArgs } from '@moekit/layers';

type LayerArgs = NonNullable<ConstructorParameters<typeof tfl.layers.Layer>[0]>;

/** Configuration of a {@link TransformerMoEBlock}. */
export interface TransformerMoEBlockArgs extends LayerArgs {
  /** Attention heads; the model width (the input's last dim) must be a multiple. Default 4. */
  numHeads?: number;
  /** Mask attention to later positions (a decoder / language-model block). Default `false`. */
  causal?: boolean;
  /** Layer-norm ε. Default 1e-5. */
  epsilon?: number;
  /** The feed-forward MoE: a `MoELayer`, or the arguments to build one (any router, any expert bank). */
  moe: MoELayer | MoELayerArgs;
  /** Seed of the attention initialisers. */
  seed?: number;
}

/**
 * A pre-norm Transformer block whose feed-forward sublayer is a Mixture of Experts (Switch
 * Transformer / GShard): `h = x + MHA(LN(x))`, `y = h + MoE(LN(h))`, multi-head self-attention
 * written with tfjs ops (Vaswani et al. 2017). Input and output `[B, S, D]`; the MoE routes every
 * position. Its router may come from any router package; the MoE's weights and aux loss are forwarded
 * as the block's own, so blocks stack in `tf.sequential` and train with `fit`.
 *
 * @example
 * ```ts
 * import { FeedForwardExperts, TransformerMoEBlock } from '@moekit/experts-ffn';
 * import { SwitchRouter } from '@moekit/router-switch';
 *
 * const block = new TransformerMoEBlock({ numHeads: 4, causal: true, moe: { router: new SwitchRouter({ numExperts: 8 }),
 *   experts: new FeedForwardExperts({ numExperts: 8, inputDim: 64, hiddenDim: 256, activation: 'gelu' }) } });
 * ```
 */
export class TransformerMoEBlock extends tfl.layers.Layer {
  /** Name under which the class is registered for (de)serialisation. */
  static readonly className = 'TransformerMoEBlock';
  /** The feed-forward MoE sublayer. */
  readonly moe: MoELayer;
  /** Attention heads. */
  readonly numHeads: number;
  /** Whether attention is causal. */
  readonly causal: boolean;
  private readonly epsilon: number;
  private readonly seed: number | undefined;
  private attention: Record<'wq' | 'wk' | 'wv' | 'wo', tfl.LayerVariable> | undefined;
  private norms: Record<'gamma1' | 'beta1' | 'gamma2' | 'beta2', tfl.LayerVariable> | undefined;

  /** Validates the arguments and builds (or adopts) the MoE sublayer. */
  constructor(args: TransformerMoEBlockArgs) {
    const { numHeads, causal, epsilon, moe, seed, ...layerArgs } = args;
    super(layerArgs);
    this.numHeads = numHeads ?? 4;
    if (!Number.isInteger(this.numHeads) || this.numHeads < 1) throw new MoEArgumentError('TransformerMoEBlock', 'numHeads', 'an integer >= 1', String(numHeads));
    this.causal = causal ?? false;
    this.epsilon = epsilon ?? 1e-5;
    this.seed = seed;
    if (moe === undefined) throw new MoEArgumentError('TransformerMoEBlock', 'moe', 'a MoELayer or its arguments', 'undefined');
    this.moe = moe instanceof MoELayer ? moe : new MoELayer(moe);
    this.addLoss(() => this.moe.auxLoss ?? tf.scalar(0)); // the MoE's aux loss joins the model's
  }

  /** Creates the attention and layer-norm weights, builds the MoE and forwards its weights. */
  override build(inputShape: tfl.Shape | tfl.Shape[]): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tfl.Shape;
    const dim = shape[shape.length - 1];
    if (shape.length !== 3 || typeof dim !== 'number') throw new MoEArgumentError('TransformerMoEBlock.build', 'inputShape', '[batch, sequence, D] with D known', `[${shape.join(', ')}]`);
    if (dim % this.numHeads !== 0) throw new MoEArgumentError('TransformerMoEBlock.build', 'inputShape', `a width divisible by numHeads ${this.numHeads}`, `D = ${dim}`);
    let s = this.seed;
    const glorot = () => tfl.initializers.glorotUniform({ seed: s === undefined ? undefined : s++ });
    const kernel = (name: string) => this.addWeight(name, [dim, dim], 'float32', glorot());
    this.attention = { wq: kernel('wq'), wk: kernel('wk'), wv: kernel('wv'), wo: kernel('wo') };
    const vector = (name: string, init: 'ones' | 'zeros') => this.addWeight(name, [dim], 'float32', init === 'ones' ? tfl.initializers.ones() : tfl.initializers.zeros());
    this.norms = { gamma1: vector('ln1_gamma', 'ones'), beta1: vector('ln1_beta', 'zeros'), gamma2: vector('ln2_gamma', 'ones'), beta2: vector('ln2_beta', 'zeros') };
    this.moe.build(shape); // builds lazily built experts from the width, forwards their variables as its weights
    // forward the MoE's weights as this block's own (tfjs-layers does not track nested layers)
    this.trainableWeights = [...this.trainableWeights, ...this.moe.trainableWeights];
    this.nonTrainableWeights = [...this.nonTrainableWeights, ...this.moe.nonTrainableWeights];
    this.built = true;
  }

  /** Releases the block's weights and, once no model holds the block, its MoE's components. */
  override dispose(): ReturnType<tfl.layers.Layer['dispose']> {
    const result = super.dispose();
    if (result.refCountAfterDispose === 0) this.moe.releaseComponents(); // a shared bank stays while another layer uses it
    return result;
  }

  /** `[B, S, D]` → `[B, S, D]`. */
  override computeOutputShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape {
    return (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tfl.Shape;
  }

  private layerNorm(x: tf.Tensor, gamma: tfl.LayerVariable, beta: tfl.LayerVariable): tf.Tensor {
    const { mean, variance } = tf.moments(x, -1, true);
    return tf.add(tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, this.epsilon))), gamma.read()), beta.read());
  }

  /** Multi-head scaled dot-product self-attention (Vaswani et al. 2017, Eq. 1), `[B, S, D]`. */
  private selfAttention(x: tf.Tensor): tf.Tensor {
    const [batch, length, dim] = x.shape as [number, number, number];
    const heads = this.numHeads;
    const headDim = dim / heads;
    const a = this.attention!;
    const project = (w: tfl.LayerVariable) => tf.transpose(tf.reshape(tf.matMul(tf.reshape(x, [-1, dim]), w.read() as tf.Tensor2D), [batch, length, heads, headDim]), [0, 2, 1, 3]); // [B, h, S, dh]
    const [q, k, v] = [project(a.wq), project(a.wk), project(a.wv)];
    let scores = tf.div(tf.matMul(q as tf.Tensor4D, k as tf.Tensor4D, false, true), Math.sqrt(headDim)); // [B, h, S, S]
    if (this.causal) {
      const future = tf.sub(1, tf.linalg.bandPart(tf.ones([length, length]), -1, 0)); // 1 above the diagonal
      scores = tf.add(scores, tf.mul(future, -1e9));
    }
    const attended = tf.matMul(tf.softmax(scores) as tf.Tensor4D, v as tf.Tensor4D); // [B, h, S, dh]
    const merged = tf.reshape(tf.transpose(attended, [0, 2, 1, 3]), [-1, dim]); // [B·S, D]
    return tf.reshape(tf.matMul(merged, a.wo.read() as tf.Tensor2D), [batch, length, dim]);
  }

  /** `h = x + MHA(LN(x))`, `y = h + MoE(LN(h))`. */
  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: { training?: boolean }): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0]! : inputs;
    const n = this.norms!;
    return tf.tidy(() => {
      const h = tf.add(x, this.selfAttention(this.layerNorm(x, n.gamma1, n.beta1)));
      const moeOut = this.moe.call(this.layerNorm(h, n.gamma2, n.beta2), kwargs);
      const auxLoss = this.moe.auxLoss;
      if (auxLoss !== undefined) tf.keep(auxLoss); // must outlive this tidy: fit reads it after the forward pass
      return tf.add(h, moeOut);
    });
  }

  /** Heads, causality, ε and the MoE sublayer's config. */
  override getConfig(): tf.serialization.ConfigDict {
    return {
      ...super.getConfig(),
      numHeads: this.numHeads,
      causal: this.causal,
      epsilon: this.epsilon,
      ...(this.seed !== undefined ? { seed: this.seed } : {}),
      moe: this.moe.getConfig(),
    };
  }

  /** Rebuilds the block and its MoE sublayer. */
  static override fromConfig<T extends tf.serialization.Serializable>(cls: tf.serialization.SerializableConstructor<T>, config: tf.serialization.ConfigDict): T {
    const { moe, ...rest } = config;
    return new cls({ ...rest, moe: MoELayer.fromConfig(MoELayer, moe as tf.serialization.ConfigDict) });
  }
}
