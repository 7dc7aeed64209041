import * as tf from '@tensorflow/tfjs-core';
import {
  checkExpertSelection,
  checkFiniteNumber,
  checkGateInput,
  checkInteger,
  copyExpertSlices,
  createGateKernel,
  definedConfig,
  excludeExperts,
  MoEArgumentError,
  rejectUnknownOptions,
  SeedStream,
  type Gate,
  type GateOutput,
  type RouteOptions,
} from '@moekit/core';

/** Configuration of a {@link CosineGate}. */
export interface CosineGateArgs {
  /** Score columns `N` (experts `E`). */
  numOutputs: number;
  /** Gate input width `Dg`; when omitted the weights are built from the first input. */
  inputDim?: number;
  /** Routing dimension `d_e` of the projection and the expert embeddings. Default 16 (X-MoE). */
  routingDim?: number;
  /** Starting temperature `τ` (> 0). Default 0.07 (the temperature constant of X-MoE's released code). */
  initialTemperature?: number;
  /** Lower bound of the learned `τ` (> 0, ≤ `initialTemperature`): scores stay within `±1/minTemperature`. Default 0.01 (Tutel's cosine gate). */
  minTemperature?: number;
  /** Learn `τ` (as `log τ`, a trainable scalar). Default `true`; `false` keeps `τ = initialTemperature`. */
  learnTemperature?: boolean;
  /** Seed of the initialisers. */
  seed?: number;
}

/** A {@link CosineGate}'s arguments with the defaults filled in. */
export interface CosineGateConfig extends CosineGateArgs {
  /** Routing dimension `d_e`. */
  routingDim: number;
  /** Starting temperature `τ`. */
  initialTemperature: number;
  /** Lower bound of `τ`. */
  minTemperature: number;
  /** Whether `τ` is learned. */
  learnTemperature: boolean;
}

const KNOWN = ['numOutputs', 'inputDim', 'routingDim', 'initialTemperature', 'minTemperature', 'learnTemperature', 'seed'];

/** `v / ‖v‖` along `axis`, as `v · rsqrt(‖v‖² + 1e-8)`: ≈ `v / max(‖v‖, 1e-4)` (X-MoE's eps) and smooth at 0, so the gradient stays finite. */
function l2Normalize(v: tf.Tensor, axis: number): tf.Tensor {
  return tf.mul(v, tf.rsqrt(tf.add(tf.sum(tf.square(v), axis, true), 1e-8)));
}

/** `[rows, cols]` with orthonormal rows or columns (whichever are fewer) times `gain`: `torch.nn.init.orthogonal_`, from a QR of a normal draw. */
function orthogonal(rows: number, cols: number, gain: number, seed: number | undefined): tf.Tensor2D {
  return tf.tidy(() => {
    const tall = rows >= cols;
    const draw = tf.randomNormal(tall ? [rows, cols] : [cols, rows], 0, 1, 'float32', seed) as tf.Tensor2D;
    const [q, r] = tf.linalg.qr(draw); // q [max, min] orthonormal columns
    const signs = tf.sign(tf.sum(tf.mul(r!, tf.eye(r!.shape[0]!, r!.shape[1])), 0)); // [min] sign(diag(r)): a uniform draw
    const columns = tf.mul(q!, signs) as tf.Tensor2D;
    return tf.mul(tall ? columns : tf.transpose(columns), gain) as tf.Tensor2D;
  });
}

/**
 * The cosine router gate of X-MoE (Chi et al. 2022, "On the Representation Collapse of Sparse Mixture of
 * Experts", https://arxiv.org/abs/2204.09179, §3): the gate input is projected to a low dimension
 * `d_e` and scored by its cosine with each expert's embedding over a learned temperature,
 * `s_i = cos(W_p x, e_i) / τ` with `W_p` `[Dg, d_e]` (no bias) and `E_emb = [e_1 … e_N]` `[d_e, N]`, both
 * sides L2-normalised, so routing depends on directions only and the scores are bounded by `1/τ`.
 *
 * Initialisation as X-MoE's released code (microsoft/torchscale `xmoe/routing.py`): `d_e = 16`, the
 * expert embeddings orthogonal with gain 0.32, the projection glorot-uniform (tfjs's default for a
 * dense kernel). The temperature is learned as `log τ` and clamped at `minTemperature`, as Tutel's
 * cosine gate (`gates/cosine_top.py`) does; the released X-MoE code defines a clamp at 1e-4 but never
 * applies a temperature, and it normalises only the expert embeddings (each step, to norm 1.5). Here both
 * sides are normalised, as §3 of the paper states. Honours `excludedExperts`.
 *
 * @example
 * ```ts
 * const router = new GatedRouter({ gate: new CosineGate({ numOutputs: 8, seed: 1 }), algorithm: new TopKChoice({ numExperts: 8, k: 2 }) });
 * ```
 */
export class CosineGate extends tf.serialization.Serializable implements Gate {
  /** Name under which the class is registered for (de)serialisation. */
  static readonly className = 'CosineGate';
  /** Score columns `N`. */
  readonly numOutputs: number;
  /** Honours {@link RouteOptions.excludedExperts}: excluded columns score `EXCLUDED_LOGIT`. */
  readonly supportsExcludedExperts = true;
  /** The validated arguments. */
  readonly config: Readonly<CosineGateConfig>;
  private projection: tf.Variable | undefined; // [Dg, d_e] W_p
  private embeddings: tf.Variable | undefined; // [d_e, N] E_emb
  private logTemperature: tf.Variable | undefined; // [] log τ (when learned)
  private readonly seeds: SeedStream;

  /** Validates the arguments (unknown options are rejected by name); builds now if `inputDim` is given. */
  constructor(args: CosineGateArgs) {
    super();
    const where = 'CosineGate';
    rejectUnknownOptions(where, args ?? {}, KNOWN);
    this.config = {
      ...args,
      routingDim: args.routingDim ?? 16,
      initialTemperature: args.initialTemperature ?? 0.07,
      minTemperature: args.minTemperature ?? 0.01,
      learnTemperature: args.learnTemperature ?? true,
    };
    const { routingDim, initialTemperature, minTemperature, learnTemperature } = this.config;
    checkInteger(where, 'numOutputs', args.numOutputs, 1);
    if (args.inputDim !== undefined) checkInteger(where, 'inputDim', args.inputDim, 1);
    checkInteger(where, 'routingDim', routingDim, 1);
    for (const [name, value] of [['initialTemperature', initialTemperature], ['minTemperature', minTemperature]] as const) {
      checkFiniteNumber(where, name, value);
      if (value <= 0) throw new MoEArgumentError(where, name, 'a number > 0', String(value));
    }
    if (initialTemperature < minTemperature) {
      throw new MoEArgumentError(where, 'initialTemperature', `a number >= minTemperature (${minTemperature})`, String(initialTemperature));
    }
    if (typeof learnTemperature !== 'boolean') throw new MoEArgumentError(where, 'learnTemperature', 'true or false', String(learnTemperature));
    this.numOutputs = args.numOutputs;
    this.seeds = new SeedStream(args.seed);
    if (args.inputDim !== undefined) this.build(args.inputDim);
  }

  /** Creates `W_p` `[Dg, d_e]`, `E_emb` `[d_e, N]` and `log τ`; a second call is a no-op. */
  build(inputDim: number): void {
    if (this.projection !== undefined) return;
    const { routingDim, initialTemperature, learnTemperature } = this.config;
    this.projection = createGateKernel(inputDim, routingDim, 'glorotUniform', this.seeds.next());
    const seed = this.seeds.next();
    this.embeddings = tf.tidy(() => tf.variable(orthogonal(routingDim, this.numOutputs, 0.32, seed), true));
    if (learnTemperature) this.logTemperature = tf.tidy(() => tf.variable(tf.scalar(Math.log(initialTemperature)), true));
  }

  /** `[W_p, E_emb, log τ]` (`log τ` only when learned); empty before the gate is built. */
  get trainableVariables(): tf.Variable[] {
    return [this.projection, this.embeddings, this.logTemperature].filter((v): v is tf.Variable => v !== undefined);
  }

  /** The temperature `τ = max(exp(log τ), minTemperature)` as a scalar the caller owns. */
  temperature(): tf.Scalar {
    const { minTemperature, initialTemperature } = this.config;
    if (this.logTemperature === undefined) return tf.scalar(initialTemperature);
    const logTemperature = this.logTemperature;
    return tf.tidy(() => tf.exp(tf.maximum(logTemperature, Math.log(minTemperature))) as tf.Scalar); // clamped: no gradient below the bound (Tutel)
  }

  /** `[T, Dg]` → `[T, N]` = `cos(W_p x, e_i) / τ` (X-MoE §3), excluded experts at `EXCLUDED_LOGIT`. */
  scores(gateInput: tf.Tensor2D, options: RouteOptions): GateOutput {
    this.build(gateInput.shape[gateInput.rank - 1]!);
    const projection = this.projection!;
    checkGateInput('CosineGate.scores', gateInput, projection.shape[0]!);
    const logits = tf.tidy(() => {
      const projected = l2Normalize(tf.matMul(tf.cast(gateInput, 'float32'), projection as tf.Tensor2D), 1); // [T, d_e] W_p x / ‖W_p x‖
      const experts = l2Normalize(this.embeddings!, 0); // [d_e, N] e_i / ‖e_i‖
      const cosine = tf.matMul(projected as tf.Tensor2D, experts as tf.Tensor2D); // [T, N] cos(W_p x, e_i)
      return excludeExperts(tf.div(cosine, this.temperature()) as tf.Tensor2D, options.excludedExperts); // [T, N] / τ
    });
    return { logits };
  }

  /**
   * The per-expert router vectors for expert pruning: `W_p · ê_i` `[Dg, N]`, column `i` being the vector
   * whose dot product with `x` is expert `i`'s score before the token's normalisation and the temperature
   * (`s_i = x·w_i / (‖W_p x‖ τ)`). A copy the caller owns.
   */
  gateWeights(): tf.Tensor2D {
    const projection = this.built('CosineGate.gateWeights');
    return tf.tidy(() => tf.matMul(projection as tf.Tensor2D, l2Normalize(this.embeddings!, 0) as tf.Tensor2D));
  }

  /** A new gate over the experts `keep` (their embeddings copied; `W_p` and `τ` copied); this gate is unchanged. */
  selectExperts(keep: readonly number[]): CosineGate {
    const where = 'CosineGate.selectExperts';
    const projection = this.built(where);
    checkExpertSelection(where, keep, this.numOutputs);
    const gate = new CosineGate({ ...this.config, numOutputs: keep.length, inputDim: projection.shape[0]! });
    gate.projection!.assign(projection);
    copyExpertSlices(gate.embeddings!, this.embeddings!, keep, 1);
    if (this.logTemperature !== undefined) gate.logTemperature!.assign(this.logTemperature);
    return gate;
  }

  private built(where: string): tf.Variable {
    if (this.projection === undefined) throw new MoEArgumentError(where, 'this', 'a built gate (give inputDim, call build or scores once)', 'a gate without weights');
    return this.projection;
  }

  /** The constructor arguments (the learned weights travel with the model's weights). */
  override getConfig(): tf.serialization.ConfigDict {
    return definedConfig(this.config);
  }

  /** Rebuilds a gate (fresh weights) from its config. */
  static override fromConfig<T extends tf.serialization.Serializable>(cls: tf.serialization.SerializableConstructor<T>, config: tf.serialization.ConfigDict): T {
    return new cls(config);
  }

  /** Releases `W_p`, `E_emb` and `log τ`. */
  dispose(): void {
    tf.dispose(this.trainableVariables);
    this.projection = undefined;
    this.embeddings = undefined;
    this.logTemperature = undefined;
  }
}

/** Creates a {@link CosineGate}, mirroring `tf.layers.dense(args)`. */
export function cosineGate(args: CosineGateArgs): CosineGate {
  return new CosineGate(args);
}
