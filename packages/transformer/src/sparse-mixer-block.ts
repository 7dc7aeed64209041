import * as tf from '@tensorflow/tfjs-core';
import { arg, checkRank, Component, GatedRouter, LinearGate, MixtureOfExperts, MoEArgumentError, type ArgsTable, type NamedVariable, type Router, type RoutingMetrics } from '@moekit/core';
import { FeedForwardExperts } from '@moekit/experts-ffn';
import { TopKChoice } from '@moekit/router-topk';
import { FourierTokenMixing } from './fourier-token-mixing.js';
import { GroupedQueryAttention } from './grouped-query-attention.js';
import { LayerNorm } from './layer-norm.js';
import { LinearTokenMixing } from './linear-token-mixing.js';

/** The token-mixing sublayer of a {@link SparseMixerBlock}: learned linear mixing, FNet's Fourier transform, or (bidirectional) self-attention. */
export type TokenMixingKind = 'linear' | 'fourier' | 'attention';
/** The feed-forward sublayer of a {@link SparseMixerBlock}: a sparse MoE of FFN experts, or one dense FFN. */
export type FeedForwardKind = 'moe' | 'dense';

/** Configuration of a {@link SparseMixerBlock}. */
export interface SparseMixerBlockArgs {
  /** Model width `D` (≥ 1). */
  hiddenSize: number;
  /** Sequence length `S` (linear mixing learns an `[S, S]` matrix; the others accept any `S` but are checked against it). */
  seqLen: number;
  /** The mixing sublayer. Default `'linear'` (Sparse Mixer's). */
  mixing?: TokenMixingKind;
  /** Attention heads when `mixing` is `'attention'` (dividing `hiddenSize`). Default 4. */
  numHeads?: number;
  /** The feed-forward sublayer. Default `'moe'`. */
  feedForward?: FeedForwardKind;
  /** Hidden width of the dense FFN and of each expert (the reference's `d_ff` / `expert_d_ff`; ≥ 1). */
  intermediateSize: number;
  /** Experts `E` of the MoE sublayer. Default 16 (Sparse Mixer Base). */
  numExperts?: number;
  /**
   * The MoE's router. Default: Switch routing — `GatedRouter(LinearGate, TopKChoice({ k: 1 }))`, tokens
   * choose one expert, load-balancing weight 0.01 (the reference's `TOKENS_CHOOSE` dispatch,
   * `num_selected_experts=1`, `auxiliary_loss_factor=0.01`). The paper's base configuration uses
   * experts-choose routing: pass `@moekit/router-balanced`'s `ExpertChoice` behind a `GatedRouter`.
   */
  router?: Router;
  /** Token-choice capacity factor in training and evaluation (the reference's `train/eval_capacity_factor`; Fast Sparse Mixer: 0.5). Default 1. */
  capacityFactor?: number;
  /** Smallest expert capacity (the reference's `min_expert_capacity`). Default 4. */
  minCapacity?: number;
  /** `ε` of both LayerNorms. Default 1e-12 (the reference's). */
  layerNormEps?: number;
  /** Std of the normal initialisers (mixing, attention, gate). Default 0.02. */
  initializerRange?: number;
  /** Seed of the initialisers. */
  seed?: number;
}

/** A {@link SparseMixerBlock}'s arguments with the defaults filled in. */
export interface SparseMixerBlockConfig extends Required<Omit<SparseMixerBlockArgs, 'seed' | 'router'>>, Pick<SparseMixerBlockArgs, 'seed' | 'router'> {}

/** What {@link SparseMixerBlock.apply} returns. */
export interface SparseMixerBlockOutput {
  /** The block's output `[B, S, D]`. */
  output: tf.Tensor3D;
  /** The MoE's weighted aux losses (a scalar 0 for a dense FFN). */
  auxLoss: tf.Scalar;
  /** The MoE's routing metrics of this call (undefined for a dense FFN); released at the MoE's next call. */
  metrics: RoutingMetrics | undefined;
}

/**
 * One Sparse Mixer encoder block (Lee-Thorp & Ainslie 2022, "Sparse Mixers: Combining MoE and Mixing to
 * build a more efficient BERT", §3, https://arxiv.org/abs/2205.12399): a token-mixing sublayer and a
 * feed-forward sublayer, each inside a post-LayerNorm residual, as BERT's and the reference's
 * `EncoderBlock` (google-research/google-research `sparse_mixers/layers.py` at 4c42994):
 * `h = LN(x + mix(x))`, `y = LN(h + ffn(h))`. `mix` is {@link LinearTokenMixing} (Sparse Mixer's),
 * {@link FourierTokenMixing} (FNet's) or bidirectional {@link GroupedQueryAttention} (the layers the paper
 * keeps as attention); `ffn` a dense GELU FFN or core's `MixtureOfExperts` over GELU
 * `FeedForwardExperts` (`W_2·gelu(W_1·h + b_1) + b_2`, as the reference's `FeedForwardLayer`). Which
 * layers get which is the encoder's layout (see {@link sparseMixerLayout}).
 *
 * Not modelled: dropout (the reference's 0.1 rates) and the attention's biases; the attention adds
 * rotary positions (the reference's BERT attention uses the embeddings' learned positions only).
 *
 * Variables: `mixing/…` (`inputKernel`, `hiddenKernel` | `qProj`…`oProj` | none), `mixingNorm/{weight,bias}`,
 * `outputNorm/{weight,bias}`, then `moe/router/gate/kernel` `[D, E]` and `moe/experts/…`, or `ffn/…`.
 *
 * @example
 * ```ts
 * const block = new SparseMixerBlock({ hiddenSize: 32, seqLen: 16, intermediateSize: 64, numExperts: 4, seed: 1 });
 * const { output, auxLoss } = block.apply(x, { training: true }); // x [B, 16, 32] → output [B, 16, 32]
 * ```
 */
export class SparseMixerBlock extends Component<SparseMixerBlockArgs, SparseMixerBlockConfig> {
  /** Name under which the class is registered for (de)serialisation. */
  static readonly className = 'SparseMixerBlock';
  /** The arguments. */
  static readonly argsTable: ArgsTable<SparseMixerBlockArgs> = {
    hiddenSize: arg.integer({ min: 1 }),
    seqLen: arg.integer({ min: 1 }),
    mixing: arg.oneOf(['linear', 'fourier', 'attention'] as const, { default: 'linear' }),
    numHeads: arg.integer({ min: 1, default: 4 }),
    feedForward: arg.oneOf(['moe', 'dense'] as const, { default: 'moe' }),
    intermediateSize: arg.integer({ min: 1 }),
    numExperts: arg.integer({ min: 1, default: 16 }),
    router: arg.component({ optional: true }),
    capacityFactor: arg.number({ above: 0, default: 1 }),
    minCapacity: arg.integer({ min: 0, default: 4 }),
    layerNormEps: arg.number({ above: 0, default: 1e-12 }),
    initializerRange: arg.number({ above: 0, default: 0.02 }),
    seed: arg.number({ optional: true }),
  };
  /** The mixing sublayer. */
  readonly mixing: LinearTokenMixing | FourierTokenMixing | GroupedQueryAttention;
  /** The LayerNorm after the mixing residual. */
  readonly mixingNorm: LayerNorm;
  /** The LayerNorm after the feed-forward residual. */
  readonly outputNorm: LayerNorm;
  /** The sparse MoE sublayer (`feedForward: 'moe'`). */
  readonly moe: MixtureOfExperts | undefined;
  /** The dense FFN (`feedForward: 'dense'`): a one-expert bank applied to all tokens. */
  readonly ffn: FeedForwardExperts | undefined;

  /** Validates the arguments and builds the sublayers. */
  constructor(args: SparseMixerBlockArgs) {
    super(args);
    const c = this.config;
    const where = 'SparseMixerBlock';
    const seed = () => this.seeds.next();
    if (c.mixing === 'attention' && c.hiddenSize % c.numHeads !== 0) throw new MoEArgumentError(where, 'numHeads', `a divisor of hiddenSize (${c.hiddenSize})`, String(c.numHeads));
    if (c.router !== undefined && c.router.numExperts !== c.numExperts) throw new MoEArgumentError(where, 'router.numExperts', `${c.numExperts} (numExperts)`, String(c.router.numExperts));
    this.mixing = this.addPart(
      'mixing',
      c.mixing === 'linear'
        ? new LinearTokenMixing({ seqLen: c.seqLen, hiddenSize: c.hiddenSize, initializerRange: c.initializerRange, seed: seed() })
        : c.mixing === 'fourier'
          ? new FourierTokenMixing({})
          : new GroupedQueryAttention({ hiddenSize: c.hiddenSize, numHeads: c.numHeads, causal: false, initializerRange: c.initializerRange, seed: seed() }),
    );
    this.mixingNorm = this.addPart('mixingNorm', new LayerNorm({ dim: c.hiddenSize, eps: c.layerNormEps }));
    this.outputNorm = this.addPart('outputNorm', new LayerNorm({ dim: c.hiddenSize, eps: c.layerNormEps }));
    const bank = (numExperts: number) => new FeedForwardExperts({ numExperts, inputDim: c.hiddenSize, hiddenDim: c.intermediateSize, activation: 'gelu', seed: seed() });
    if (c.feedForward === 'moe') {
      const router =
        c.router ??
        new GatedRouter({
          gate: new LinearGate({ numOutputs: c.numExperts, inputDim: c.hiddenSize, seed: seed() }),
          algorithm: new TopKChoice({ numExperts: c.numExperts, k: 1, loadBalancingWeight: 0.01 }),
        });
      this.moe = new MixtureOfExperts({ router, experts: bank(c.numExperts), capacity: { train: c.capacityFactor, eval: c.capacityFactor, min: c.minCapacity }, name: 'sparse_mixer_moe' });
      this.ffn = undefined;
    } else {
      this.moe = undefined;
      this.ffn = bank(1);
    }
  }

  /** The parts' variables, then the MoE's under `moe/` or the dense FFN's under `ffn/`. */
  override namedVariables(): NamedVariable[] {
    const inner = this.moe !== undefined ? this.moe.namedVariables().map(([path, v]) => [`moe/${path}`, v] as const) : this.ffn!.namedVariables().map(([path, v]) => [`ffn/${path}`, v] as const);
    return [...super.namedVariables(), ...inner];
  }

  /** `x` `[B, S, D]` through the mixing and feed-forward sublayers, each a post-LayerNorm residual. */
  apply(x: tf.Tensor, options: { training: boolean }): SparseMixerBlockOutput {
    const where = 'SparseMixerBlock.apply';
    this.assertLive(where);
    checkRank(where, 'x', x, 3);
    const [B, S, D] = x.shape as [number, number, number];
    const { hiddenSize, seqLen } = this.config;
    if (S !== seqLen || D !== hiddenSize) throw new MoEArgumentError(where, 'x', `shape [B, ${seqLen}, ${hiddenSize}] (seqLen, hiddenSize)`, `shape [${x.shape.join(', ')}]`);
    let metrics: RoutingMetrics | undefined;
    const [output, auxLoss] = tf.tidy(() => {
      const h = this.mixingNorm.apply(tf.add(x, this.mixing.apply(x))); // h = LN(x + mix(x))   [B, S, D]
      const tokens = tf.reshape(h, [B * S, D]); // [T, D]
      let ffnOut: tf.Tensor; // [T, D]
      let aux: tf.Scalar;
      if (this.moe !== undefined) {
        const moeOut = this.moe.apply(tokens, { training: options.training });
        ffnOut = moeOut.output;
        aux = moeOut.auxLosses.total;
        metrics = moeOut.metrics;
      } else {
        ffnOut = tf.reshape(this.ffn!.apply(tf.expandDims(tokens, 0)), [B * S, D]); // one expert over all tokens
        aux = tf.scalar(0);
      }
      const y = this.outputNorm.apply(tf.add(tokens, ffnOut)); // y = LN(h + ffn(h))   [T, D]
      return [tf.reshape(y, [B, S, D]) as tf.Tensor3D, aux] as const;
    });
    return { output, auxLoss, metrics };
  }

  /** Releases the sublayers' variables and the MoE (or the dense FFN). */
  override dispose(): void {
    if (this.isDisposed) return;
    super.dispose();
    this.moe?.dispose();
    this.ffn?.dispose();
  }
}
