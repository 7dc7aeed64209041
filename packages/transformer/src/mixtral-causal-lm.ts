import * as tf from '@tensorflow/tfjs-core';
import { arg, checkDtype, checkRank, Component, MoEArgumentError, type ArgsTable } from '@moekit/core';
import { MixtralDecoderLayer, mixtralLayerArgsTable, type MixtralDecoderLayerArgs } from './mixtral-decoder-layer.js';
import { mixtralLoadBalancingLoss } from './mixtral-load-balancing-loss.js';
import { RMSNorm } from './rms-norm.js';

/**
 * Configuration of a {@link MixtralCausalLM}: HF `MixtralConfig`'s fields (`configuration_mixtral.py`),
 * camel-cased, with the same meanings; the defaults of the size fields are a tiny model's, the others HF's.
 */
export interface MixtralCausalLMArgs extends MixtralDecoderLayerArgs {
  /** Vocabulary size `V` (HF `vocab_size`). */
  vocabSize: number;
  /** Decoder layers `L` (HF `num_hidden_layers`). */
  numHiddenLayers: number;
  /** Longest sequence (prompt + generated) the model accepts (HF `max_position_embeddings`). Default 4096·32. */
  maxPositionEmbeddings?: number;
  /** Use `embedTokens` as the output projection (HF `tie_word_embeddings`). Default `false`. */
  tieWordEmbeddings?: boolean;
  /** Weight of Mixtral's load-balancing loss in {@link MixtralCausalLM.loss} (HF `router_aux_loss_coef`). Default 0.001. */
  routerAuxLossCoef?: number;
}

/** A {@link MixtralCausalLM}'s arguments with the defaults filled in. */
export interface MixtralCausalLMConfig extends Required<Omit<MixtralCausalLMArgs, 'seed'>>, Pick<MixtralCausalLMArgs, 'seed'> {}

/** What {@link MixtralCausalLM.forward} returns; the caller disposes the tensors. */
export interface MixtralForwardOutput {
  /** Next-token logits `[B, S, V]`. */
  logits: tf.Tensor3D;
  /** Each layer's router logits `[B·S, E]` (HF `output_router_logits`). */
  routerLogits: tf.Tensor2D[];
}

/** What {@link MixtralCausalLM.loss} returns: the weighted total and its unweighted parts. */
export interface MixtralLoss {
  /** `crossEntropy + routerAuxLossCoef · loadBalancing` (+ any aux loss the MoE blocks add): what to minimise. */
  total: tf.Scalar;
  /** Mean next-token cross entropy (nats). */
  crossEntropy: tf.Scalar;
  /** Mixtral's load-balancing loss over all layers, unweighted ({@link mixtralLoadBalancingLoss}). */
  loadBalancing: tf.Scalar;
}

/**
 * A Mixtral-style decoder-only language model (Jiang et al. 2024, https://arxiv.org/abs/2401.04088),
 * HF's `MixtralForCausalLM`: token embedding, `numHiddenLayers` {@link MixtralDecoderLayer}s, a final
 * {@link RMSNorm} and the output projection `lm_head` (`logits = norm(h) · W_lmᵀ`). Variables:
 * `embedTokens` `[V, D]`, `layers/<i>/…`, `norm/weight`, `lmHead` `[V, D]` (HF's layout, absent when
 * tied). Loads and saves HF checkpoints through `@moekit/hf` (`loadMixtralCheckpoint`).
 *
 * @example
 * ```ts
 * const model = new MixtralCausalLM({ vocabSize: 61, hiddenSize: 32, intermediateSize: 48, numHiddenLayers: 2, numAttentionHeads: 4, numKeyValueHeads: 2, numLocalExperts: 4, seed: 1 });
 * const logits = model.logits(tf.tensor2d([[1, 17, 42]], [1, 3], 'int32')); // [1, 3, 61]
 * const { total } = model.loss(ids, { training: true });                      // cross entropy + aux
 * const continued = model.generate(ids, 8);                                   // [B, S + 8] greedy
 * ```
 */
export class MixtralCausalLM extends Component<MixtralCausalLMArgs, MixtralCausalLMConfig> {
  /** Name under which the class is registered for (de)serialisation. */
  static readonly className = 'MixtralCausalLM';
  /** The arguments. */
  static readonly argsTable: ArgsTable<MixtralCausalLMArgs> = {
    vocabSize: arg.integer({ min: 1 }),
    numHiddenLayers: arg.integer({ min: 1 }),
    ...mixtralLayerArgsTable,
    maxPositionEmbeddings: arg.integer({ min: 1, default: 4096 * 32 }),
    tieWordEmbeddings: arg.boolean({ default: false }),
    routerAuxLossCoef: arg.number({ min: 0, default: 0.001 }),
  };
  /** The decoder layers. */
  readonly layers: MixtralDecoderLayer[];
  /** The final RMSNorm (HF `model.norm`). */
  readonly norm: RMSNorm;

  /** Validates the arguments and creates the weights (normal, std `initializerRange`; norms at ones). */
  constructor(args: MixtralCausalLMArgs) {
    super(args);
    const { vocabSize: V, hiddenSize: D, numHiddenLayers: L, initializerRange: std } = this.config;
    this.addVariable('embedTokens', tf.randomNormal([V, D], 0, std, 'float32', this.seeds.next()));
    const layerArgs = Object.fromEntries(Object.keys(mixtralLayerArgsTable).map((name) => [name, (this.config as unknown as Record<string, unknown>)[name]])) as unknown as MixtralDecoderLayerArgs;
    this.layers = Array.from({ length: L }, (_, i) => this.addPart(`layers/${i}`, new MixtralDecoderLayer({ ...layerArgs, seed: this.seeds.next() })));
    this.norm = this.addPart('norm', new RMSNorm({ dim: D, eps: this.config.rmsNormEps }));
    if (!this.config.tieWordEmbeddings) this.addVariable('lmHead', tf.randomNormal([V, D], 0, std, 'float32', this.seeds.next()));
  }

  /** The token embedding `[V, D]` (HF `model.embed_tokens.weight`). */
  get embedTokens(): tf.Variable {
    return this.variable('embedTokens', 'MixtralCausalLM.embedTokens');
  }

  /** The output projection `[V, D]` (HF `lm_head.weight`): `embedTokens` when tied. */
  get lmHead(): tf.Variable {
    return this.config.tieWordEmbeddings ? this.embedTokens : this.variable('lmHead', 'MixtralCausalLM.lmHead');
  }

  /**
   * Logits `[B, S, V]` and every layer's router logits for `inputIds` `[B, S]` int32, positions
   * `0 … S − 1`. Checks the ids (one host read of their range).
   */
  forward(inputIds: tf.Tensor, options: { training?: boolean } = {}): MixtralForwardOutput {
    const where = 'MixtralCausalLM.forward';
    this.checkIds(where, inputIds);
    const embed = this.embedTokens;
    const head = this.lmHead;
    const [B, S] = inputIds.shape as [number, number];
    const training = options.training ?? false;
    return tf.tidy(() => {
      let x = tf.reshape(tf.gather(embed, tf.reshape(inputIds, [B * S])), [B, S, this.config.hiddenSize]) as tf.Tensor3D; // [B, S, D]
      const routerLogits: tf.Tensor2D[] = [];
      for (const layer of this.layers) {
        const out = layer.apply(x, { training });
        x = out.output;
        routerLogits.push(out.routerLogits);
      }
      const normed = tf.reshape(this.norm.apply(x), [B * S, this.config.hiddenSize]) as tf.Tensor2D; // [B·S, D]
      const logits = tf.reshape(tf.matMul(normed, head as tf.Tensor2D, false, true), [B, S, this.config.vocabSize]) as tf.Tensor3D; // [B, S, V]
      return { logits, routerLogits };
    });
  }

  /** Next-token logits `[B, S, V]` of `inputIds` `[B, S]` int32 (evaluation mode). */
  logits(inputIds: tf.Tensor): tf.Tensor3D {
    const { logits, routerLogits } = this.forward(inputIds);
    tf.dispose(routerLogits);
    return logits;
  }

  /**
   * The training loss of `inputIds` `[B, S]` (S ≥ 2): mean next-token cross entropy (position `s`
   * predicts token `s + 1`, HF `ForCausalLMLoss`) plus `routerAuxLossCoef` times Mixtral's
   * load-balancing loss over all layers ({@link mixtralLoadBalancingLoss}), as `MixtralForCausalLM.forward`
   * with `output_router_logits`.
   */
  loss(inputIds: tf.Tensor, options: { training?: boolean } = {}): MixtralLoss {
    const where = 'MixtralCausalLM.loss';
    this.checkIds(where, inputIds);
    const [B, S] = inputIds.shape as [number, number];
    if (S < 2) throw new MoEArgumentError(where, 'inputIds', 'at least 2 positions (a token and its next)', `shape [${inputIds.shape.join(', ')}]`);
    const V = this.config.vocabSize;
    return tf.tidy(() => {
      const { logits, routerLogits } = this.forward(inputIds, options);
      const predicted = tf.reshape(tf.slice(logits, [0, 0, 0], [B, S - 1, V]), [B * (S - 1), V]); // [N, V]
      const targets = tf.reshape(tf.slice(inputIds, [0, 1], [B, S - 1]), [B * (S - 1)]); // [N]
      const logProbs = tf.logSoftmax(predicted); // [N, V]
      const crossEntropy = tf.neg(tf.mean(tf.sum(tf.mul(logProbs, tf.oneHot(targets, V, 1, 0, 'float32')), 1))) as tf.Scalar;
      const loadBalancing = mixtralLoadBalancingLoss(routerLogits, this.config.numExpertsPerTok);
      const total = tf.add(crossEntropy, tf.mul(this.config.routerAuxLossCoef, loadBalancing)) as tf.Scalar;
      return { total, crossEntropy, loadBalancing };
    });
  }

  /**
   * Greedy decoding: appends, `maxNewTokens` times, the most likely next token of every row (the
   * whole sequence is run again each step; no key/value cache). Returns `[B, S + maxNewTokens]` int32.
   */
  generate(inputIds: tf.Tensor, maxNewTokens: number): tf.Tensor2D {
    const where = 'MixtralCausalLM.generate';
    this.checkIds(where, inputIds);
    const S = inputIds.shape[1]!;
    const limit = this.config.maxPositionEmbeddings - S;
    if (!Number.isInteger(maxNewTokens) || maxNewTokens < 0 || maxNewTokens > limit) {
      throw new MoEArgumentError(where, 'maxNewTokens', `an integer in [0, ${limit}] (maxPositionEmbeddings − prompt length)`, String(maxNewTokens));
    }
    let ids = tf.clone(inputIds) as tf.Tensor2D;
    for (let step = 0; step < maxNewTokens; step++) {
      const next = tf.tidy(() => {
        const logits = this.logits(ids); // [B, s, V]
        const [B, s, V] = logits.shape;
        const last = tf.reshape(tf.slice(logits, [0, s - 1, 0], [B, 1, V]), [B, V]); // [B, V]
        return tf.concat([ids, tf.expandDims(tf.cast(tf.argMax(last, 1), 'int32'), 1)], 1) as tf.Tensor2D; // [B, s + 1]
      });
      ids.dispose();
      ids = next;
    }
    return ids;
  }

  /** Names the problem with `inputIds` (rank 2, int32, non-empty, ids in `[0, V)`, at most `maxPositionEmbeddings` positions). */
  private checkIds(where: string, inputIds: tf.Tensor): void {
    this.assertLive(where);
    checkRank(where, 'inputIds', inputIds, 2);
    checkDtype(where, 'inputIds', inputIds, 'int32');
    const [B, S] = inputIds.shape as [number, number];
    if (B === 0 || S === 0) throw new MoEArgumentError(where, 'inputIds', 'at least one row and one position', `shape [${inputIds.shape.join(', ')}]`);
    if (S > this.config.maxPositionEmbeddings) throw new MoEArgumentError(where, 'inputIds', `at most ${this.config.maxPositionEmbeddings} positions (maxPositionEmbeddings)`, `${S}`);
    const range = tf.tidy(() => tf.stack([tf.min(inputIds), tf.max(inputIds)])); // [2]
    const [lo, hi] = range.dataSync() as unknown as [number, number];
    range.dispose();
    if (lo < 0 || hi >= this.config.vocabSize) throw new MoEArgumentError(where, 'inputIds', `token ids in [0, ${this.config.vocabSize - 1}] (vocabSize)`, `ids from ${lo} to ${hi}`);
  }
}
