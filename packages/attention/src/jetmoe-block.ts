import * as tf from '@tensorflow/tfjs-core';
import { arg, checkRank, Component, expectTokenChoice, MixtureOfExperts, MoEArgumentError, routerZLoss, type ArgsTable, type AuxLosses, type NamedVariable, type Router } from '@moekit/core';
import { FeedForwardExperts } from '@moekit/experts-ffn';
import { RMSNorm } from '@moekit/transformer';
import { jetMoERouter } from './jetmoe-router.js';
import { MixtureOfAttentionHeads } from './mixture-of-attention-heads.js';

/** Configuration of a {@link JetMoEBlock} (HF `JetMoeConfig`'s fields, camel-cased). */
export interface JetMoEBlockArgs {
  /** Model width `D`. */
  hiddenSize: number;
  /** Hidden width of each FFN expert's SwiGLU (JetMoE `ffn_hidden_size`). */
  ffnHiddenSize: number;
  /** Experts `E` of both the attention and the FFN mixture (JetMoE `moe_num_experts`). Default 8. */
  numExperts?: number;
  /** Experts per token `K` of both mixtures (JetMoE `moe_top_k`). Default 2. */
  k?: number;
  /** Heads per attention expert `G` (JetMoE `num_key_value_heads`). Default 1. */
  numKeyValueHeads?: number;
  /** Per-head width `d` (JetMoE `kv_channels`). Default `hiddenSize / (k·numKeyValueHeads)`. */
  headDim?: number;
  /** `ε` of both RMSNorms. Default 1e-6. */
  rmsNormEps?: number;
  /** Rotary base. Default 10000. */
  ropeTheta?: number;
  /** Weight of each router's load-balancing loss. Default 0.01 (JetMoE `aux_loss_coef`). */
  loadBalancingWeight?: number;
  /** Weight of each router's z-loss. Default 0.001 (JetMoE: `aux_loss_coef · 0.1`). */
  zLossWeight?: number;
  /** Std of the normal initialiser of the attention projections. Default 0.02. */
  initializerRange?: number;
  /** Seed of the initialisers. */
  seed?: number;
}

/** A {@link JetMoEBlock}'s arguments with the defaults filled in. */
export interface JetMoEBlockConfig extends Required<Omit<JetMoEBlockArgs, 'seed'>>, Pick<JetMoEBlockArgs, 'seed'> {}

/** What {@link JetMoEBlock.apply} returns; the caller disposes the tensors. */
export interface JetMoEBlockOutput {
  /** The block's output `[B, S, D]`. */
  output: tf.Tensor3D;
  /** Both mixtures' aux losses summed: `total` weighted, `attention` and `mlp` each mixture's weighted total. */
  auxLosses: AuxLosses;
  /** Pairs routed to each attention expert `[E]`. */
  attentionLoad: tf.Tensor1D;
  /** Pairs routed to each FFN expert `[E]` (kept pairs; the FFN mixture is dropless). */
  mlpLoad: tf.Tensor1D;
}

/**
 * One JetMoE decoder block (Shen et al. 2024, "JetMoE: Reaching Llama2 Performance with 0.1M
 * Dollars", §2, Fig. 1, https://arxiv.org/abs/2404.07413; `myshell-ai/JetMoE` `jetmoe/modeling_jetmoe.py`
 * `JetMoEBlock`, commit 235392e9): pre-norm residual sub-blocks, both sparse,
 * `h = x + MoA(RMSNorm(x))`, `y = h + MoE(RMSNorm(h)) + b_mlp`: a {@link MixtureOfAttentionHeads} and a
 * top-`k` mixture of SwiGLU FFN experts (core's `MixtureOfExperts` over `FeedForwardExperts({ gated:
 * 'swiglu', useBias: false })`, dropless, plus JetMoE's shared output bias `b_mlp` `[D]`), each with a
 * {@link jetMoERouter} (softmax over the top-`k` logits, the frequency-based load-balancing loss) and
 * the router z-loss (ST-MoE Eq. 5): JetMoE's gate loss `switch + 0.1·z`, times `aux_loss_coef`.
 *
 * Variables: `inputLayernorm/weight`, `selfAttention/…` (see {@link MixtureOfAttentionHeads}),
 * `postAttentionLayernorm/weight`, `mlpBias`, `mlp/router/gate/kernel`, `mlp/experts/{w1,v,w2}`.
 *
 * @example
 * ```ts
 * const block = new JetMoEBlock({ hiddenSize: 32, ffnHiddenSize: 48, numExperts: 4, k: 2, headDim: 8, seed: 1 });
 * const { output, auxLosses, attentionLoad, mlpLoad } = block.apply(x, { training: true }); // x [B, S, 32]
 * ```
 */
export class JetMoEBlock extends Component<JetMoEBlockArgs, JetMoEBlockConfig> {
  /** Name under which the class is registered for (de)serialisation. */
  static readonly className = 'JetMoEBlock';
  /** The arguments. */
  static readonly argsTable: ArgsTable<JetMoEBlockArgs> = {
    hiddenSize: arg.integer({ min: 1 }),
    ffnHiddenSize: arg.integer({ min: 1 }),
    numExperts: arg.integer({ min: 1, default: 8 }),
    k: arg.integer({ min: 1, default: 2, max: (r) => r['numExperts'] as number }),
    numKeyValueHeads: arg.integer({ min: 1, default: 1 }),
    headDim: arg.integer({ min: 2, defaultFrom: (r) => Math.floor((r['hiddenSize'] as number) / ((r['k'] as number) * (r['numKeyValueHeads'] as number))) }),
    rmsNormEps: arg.number({ above: 0, default: 1e-6 }),
    ropeTheta: arg.number({ above: 0, default: 10000 }),
    loadBalancingWeight: arg.number({ min: 0, default: 0.01 }),
    zLossWeight: arg.number({ min: 0, default: 0.001 }),
    initializerRange: arg.number({ above: 0, default: 0.02 }),
    seed: arg.number({ optional: true }),
  };
  /** The RMSNorm before attention. */
  readonly inputLayernorm: RMSNorm;
  /** The mixture of attention heads. */
  readonly selfAttention: MixtureOfAttentionHeads;
  /** The RMSNorm before the FFN mixture. */
  readonly postAttentionLayernorm: RMSNorm;
  /** The sparse SwiGLU FFN mixture (JetMoE `mlp`). */
  readonly mlp: MixtureOfExperts;
  private readonly mlpRouter: Router;

  /** Validates the arguments and builds the sub-blocks. */
  constructor(args: JetMoEBlockArgs) {
    super(args);
    const c = this.config;
    const seed = () => this.seeds.next();
    const router = () => jetMoERouter({ numExperts: c.numExperts, k: c.k, inputDim: c.hiddenSize, loadBalancingWeight: c.loadBalancingWeight, seed: seed() });
    this.inputLayernorm = this.addPart('inputLayernorm', new RMSNorm({ dim: c.hiddenSize, eps: c.rmsNormEps }));
    this.selfAttention = this.addPart(
      'selfAttention',
      new MixtureOfAttentionHeads({
        router: router(),
        hiddenSize: c.hiddenSize,
        numKeyValueHeads: c.numKeyValueHeads,
        headDim: c.headDim,
        ropeTheta: c.ropeTheta,
        zLossWeight: c.zLossWeight,
        initializerRange: c.initializerRange,
        seed: seed(),
      }),
    );
    this.postAttentionLayernorm = this.addPart('postAttentionLayernorm', new RMSNorm({ dim: c.hiddenSize, eps: c.rmsNormEps }));
    this.addVariable('mlpBias', tf.zeros([c.hiddenSize]));
    this.mlpRouter = router();
    this.mlp = new MixtureOfExperts({
      router: this.mlpRouter,
      experts: new FeedForwardExperts({ numExperts: c.numExperts, inputDim: c.hiddenSize, hiddenDim: c.ffnHiddenSize, gated: 'swiglu', useBias: false, seed: seed() }),
      capacity: { train: 0, eval: 0 },
      name: 'jetmoe_mlp',
    });
  }

  /** The block's own variables and parts', then the FFN mixture's under `mlp/`. */
  override namedVariables(): NamedVariable[] {
    return [...super.namedVariables(), ...this.mlp.namedVariables().map(([path, v]) => [`mlp/${path}`, v] as const)];
  }

  /** `x` `[B, S, D]` through the attention mixture and the FFN mixture, each around a residual. */
  apply(x: tf.Tensor, options: { training: boolean }): JetMoEBlockOutput {
    const where = 'JetMoEBlock.apply';
    this.assertLive(where);
    checkRank(where, 'x', x, 3);
    const [B, S, D] = x.shape as [number, number, number];
    if (D !== this.config.hiddenSize) throw new MoEArgumentError(where, 'x', `a last axis of ${this.config.hiddenSize} (hiddenSize)`, `shape [${x.shape.join(', ')}]`);
    const mlpBias = this.variable('mlpBias', where);
    return tf.tidy(() => {
      const attention = this.selfAttention.apply(this.inputLayernorm.apply(x), options);
      const h = tf.add(x, attention.output); // [B, S, D]
      const normed = tf.reshape(this.postAttentionLayernorm.apply(h), [B * S, D]) as tf.Tensor2D; // [T, D]
      const moe = this.mlp.apply(normed, { training: options.training }); // [T, D]
      // the MoE does not hand back its router's logits or choices: route again (same weights, same input, no noise) for the z-loss and the load
      const rerouted = expectTokenChoice(this.mlpRouter.route(normed, { training: options.training }), where);
      const mlpZ = routerZLoss(rerouted.logits);
      const mlpLoad = tf.sum(tf.oneHot(tf.cast(rerouted.expertIndex, 'int32'), this.config.numExperts, 1, 0, 'float32'), [0, 1]) as tf.Tensor1D; // [E]
      const mlpTotal = tf.add(moe.auxLosses.total, tf.mul(this.config.zLossWeight, mlpZ)) as tf.Scalar;
      const output = tf.add(h, tf.add(tf.reshape(moe.output, [B, S, D]), mlpBias)) as tf.Tensor3D; // [B, S, D]
      const auxLosses: AuxLosses = {
        total: tf.add(attention.auxLosses.total, mlpTotal) as tf.Scalar,
        attention: attention.auxLosses.total,
        mlp: mlpTotal,
      };
      return { output, auxLosses, attentionLoad: attention.load, mlpLoad };
    });
  }

  /** Releases the parts' variables and the FFN mixture. */
  override dispose(): void {
    if (this.isDisposed) return;
    super.dispose();
    this.mlp.dispose();
  }
}
