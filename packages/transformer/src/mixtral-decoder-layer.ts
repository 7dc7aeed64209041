import * as tf from '@tensorflow/tfjs-core';
import { arg, checkRank, Component, GatedRouter, LinearGate, MixtureOfExperts, MoEArgumentError, type ArgsTable, type NamedVariable } from '@moekit/core';
import { FeedForwardExperts } from '@moekit/experts-ffn';
import { TopKChoice } from '@moekit/router-topk';
import { GroupedQueryAttention } from './grouped-query-attention.js';
import { RMSNorm } from './rms-norm.js';

/** Configuration of a {@link MixtralDecoderLayer} (HF `MixtralConfig`'s fields, camel-cased). */
export interface MixtralDecoderLayerArgs {
  /** Model width `D`. */
  hiddenSize: number;
  /** Hidden width `H` of each expert's SwiGLU FFN. */
  intermediateSize: number;
  /** Query heads. */
  numAttentionHeads: number;
  /** Key/value heads (dividing the query heads). Default `numAttentionHeads`. */
  numKeyValueHeads?: number;
  /** Per-head width. Default `hiddenSize / numAttentionHeads`. */
  headDim?: number;
  /** Experts `E`. Default 8. */
  numLocalExperts?: number;
  /** Experts per token `K`. Default 2. */
  numExpertsPerTok?: number;
  /** `ε` of both RMSNorms. Default 1e-5. */
  rmsNormEps?: number;
  /** Rotary base `θ`. Default 1e6. */
  ropeTheta?: number;
  /** Attention window (0: none). Default 0. */
  slidingWindow?: number;
  /** Std of the normal initialiser of the attention projections. Default 0.02. */
  initializerRange?: number;
  /** Seed of the initialisers. */
  seed?: number;
}

/** A {@link MixtralDecoderLayer}'s arguments with the defaults filled in. */
export interface MixtralDecoderLayerConfig extends Required<Omit<MixtralDecoderLayerArgs, 'seed'>>, Pick<MixtralDecoderLayerArgs, 'seed'> {}

/** What {@link MixtralDecoderLayer.apply} returns. */
export interface MixtralDecoderLayerOutput {
  /** The layer's output `[B, S, D]`. */
  output: tf.Tensor3D;
  /** The router logits `[B·S, E]` (HF's `router_logits`): what the gate scored. */
  routerLogits: tf.Tensor2D;
  /** The MoE's aux losses, weighted (0 with this layer's routing: the model adds Mixtral's loss over all layers). */
  auxLoss: tf.Scalar;
}

/** The layer's arguments table: shared with {@link MixtralCausalLM}, which passes them down. */
export const mixtralLayerArgsTable: ArgsTable<MixtralDecoderLayerArgs> = {
  hiddenSize: arg.integer({ min: 1 }),
  intermediateSize: arg.integer({ min: 1 }),
  numAttentionHeads: arg.integer({ min: 1 }),
  numKeyValueHeads: arg.integer({ min: 1, defaultFrom: (r) => r['numAttentionHeads'] as number, max: (r) => r['numAttentionHeads'] as number }),
  headDim: arg.integer({ min: 2, defaultFrom: (r) => Math.floor((r['hiddenSize'] as number) / (r['numAttentionHeads'] as number)) }),
  numLocalExperts: arg.integer({ min: 1, default: 8 }),
  numExpertsPerTok: arg.integer({ min: 1, default: 2, max: (r) => r['numLocalExperts'] as number }),
  rmsNormEps: arg.number({ above: 0, default: 1e-5 }),
  ropeTheta: arg.number({ above: 0, default: 1e6 }),
  slidingWindow: arg.integer({ min: 0, default: 0 }),
  initializerRange: arg.number({ above: 0, default: 0.02 }),
  seed: arg.number({ optional: true }),
};

/**
 * One Mixtral decoder layer (Jiang et al. 2024, "Mixtral of Experts", §2, https://arxiv.org/abs/2401.04088),
 * HF's `MixtralDecoderLayer`: pre-norm residual blocks
 * `h = x + attn(RMSNorm(x))`, `y = h + moe(RMSNorm(h))`, where `moe` is the sparse SwiGLU block
 * `Σ_{i ∈ top-k} softmax(top-k(x·W_g))_i · SwiGLU_i(x)` (Mixtral Eq. 1–2; HF `MixtralSparseMoeBlock`:
 * softmax over all experts, top-k, renormalised — equal to a softmax over the top-k logits) — here
 * core's `MixtureOfExperts` with `GatedRouter(LinearGate, TopKChoice('topKSoftmax'))` and
 * `FeedForwardExperts({ gated: 'swiglu', useBias: false })`, dropless (capacity factor 0 in training
 * and evaluation, as HF's block, which never drops a token).
 *
 * Variables: `inputLayernorm/weight`, `selfAttn/{q,k,v,o}Proj`, `postAttentionLayernorm/weight`,
 * `blockSparseMoe/router/gate/kernel` `[D, E]`, `blockSparseMoe/experts/{w1,v,w2}`.
 *
 * @example
 * ```ts
 * const layer = new MixtralDecoderLayer({ hiddenSize: 32, intermediateSize: 48, numAttentionHeads: 4, numKeyValueHeads: 2, numLocalExperts: 4 });
 * const { output, routerLogits } = layer.apply(x, { training: false }); // x [B, S, 32]
 * ```
 */
export class MixtralDecoderLayer extends Component<MixtralDecoderLayerArgs, MixtralDecoderLayerConfig> {
  /** Name under which the class is registered for (de)serialisation. */
  static readonly className = 'MixtralDecoderLayer';
  /** The arguments. */
  static readonly argsTable = mixtralLayerArgsTable;
  /** The RMSNorm before attention. */
  readonly inputLayernorm: RMSNorm;
  /** The attention block. */
  readonly selfAttn: GroupedQueryAttention;
  /** The RMSNorm before the MoE. */
  readonly postAttentionLayernorm: RMSNorm;
  /** The sparse MoE FFN (HF `block_sparse_moe`). */
  readonly blockSparseMoe: MixtureOfExperts;
  /** The MoE's gate (HF `block_sparse_moe.gate`), scored again for the router logits. */
  readonly gate: LinearGate;

  /** Validates the arguments and builds the blocks. */
  constructor(args: MixtralDecoderLayerArgs) {
    super(args);
    const c = this.config;
    const seed = () => this.seeds.next();
    this.inputLayernorm = this.addPart('inputLayernorm', new RMSNorm({ dim: c.hiddenSize, eps: c.rmsNormEps }));
    this.selfAttn = this.addPart(
      'selfAttn',
      new GroupedQueryAttention({
        hiddenSize: c.hiddenSize,
        numHeads: c.numAttentionHeads,
        numKeyValueHeads: c.numKeyValueHeads,
        headDim: c.headDim,
        ropeTheta: c.ropeTheta,
        slidingWindow: c.slidingWindow,
        initializerRange: c.initializerRange,
        seed: seed(),
      }),
    );
    this.postAttentionLayernorm = this.addPart('postAttentionLayernorm', new RMSNorm({ dim: c.hiddenSize, eps: c.rmsNormEps }));
    this.gate = new LinearGate({ numOutputs: c.numLocalExperts, inputDim: c.hiddenSize, seed: seed() });
    this.blockSparseMoe = new MixtureOfExperts({
      router: new GatedRouter({ gate: this.gate, algorithm: new TopKChoice({ numExperts: c.numLocalExperts, k: c.numExpertsPerTok, gates: 'topKSoftmax', loadBalancingWeight: 0 }) }),
      experts: new FeedForwardExperts({ numExperts: c.numLocalExperts, inputDim: c.hiddenSize, hiddenDim: c.intermediateSize, gated: 'swiglu', useBias: false, seed: seed() }),
      capacity: { train: 0, eval: 0 },
      name: 'block_sparse_moe',
    });
  }

  /** The parts' variables, then the MoE's under `blockSparseMoe/`. */
  override namedVariables(): NamedVariable[] {
    return [...super.namedVariables(), ...this.blockSparseMoe.namedVariables().map(([path, v]) => [`blockSparseMoe/${path}`, v] as const)];
  }

  /** `x` `[B, S, D]` through attention and the sparse MoE, each around a residual. */
  apply(x: tf.Tensor, options: { training: boolean }): MixtralDecoderLayerOutput {
    const where = 'MixtralDecoderLayer.apply';
    this.assertLive(where);
    checkRank(where, 'x', x, 3);
    const [B, S, D] = x.shape as [number, number, number];
    if (D !== this.config.hiddenSize) throw new MoEArgumentError(where, 'x', `a last axis of ${this.config.hiddenSize} (hiddenSize)`, `shape [${x.shape.join(', ')}]`);
    return tf.tidy(() => {
      const h = tf.add(x, this.selfAttn.apply(this.inputLayernorm.apply(x))) as tf.Tensor3D; // [B, S, D]
      const normed = tf.reshape(this.postAttentionLayernorm.apply(h), [B * S, D]) as tf.Tensor2D; // [T, D]
      const { output, auxLosses } = this.blockSparseMoe.apply(normed, { training: options.training }); // [T, D]
      const routerLogits = this.gate.scores(normed, { training: options.training }).logits; // [T, E]
      return { output: tf.add(h, tf.reshape(output, [B, S, D])) as tf.Tensor3D, routerLogits, auxLoss: auxLosses.total };
    });
  }

  /** Releases the parts' variables and the MoE. */
  override dispose(): void {
    if (this.isDisposed) return;
    super.dispose();
    this.blockSparseMoe.dispose();
  }
}
