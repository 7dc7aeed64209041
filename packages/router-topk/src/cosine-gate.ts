import * as tf from '@tensorflow/tfjs-core';
import {
  arg,
  checkExpertSelection,
  checkGateInput,
  Component,
  copyExpertSlices,
  createGateKernel,
  excludeExperts,
  MoEArgumentError,
  type ArgsTable,
  type Capability,
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

/** The check of a temperature: a finite number > 0. */
const positive = arg.number({ above: 0 });

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
 * import { GatedRouter } from '@moekit/core';
 * import { CosineGate, TopKChoice } from '@moekit/router-topk';
 *
 * const router = new GatedRouter({ gate: new CosineGate({ numOutputs: 8, seed: 1 }), algorithm: new TopKChoice({ numExperts: 8, k: 2 }) });
 * ```
 */
export class CosineGate extends Component<CosineGateArgs, CosineGateConfig> implements Gate {
  /** Name under which the class is registered for (de)serialisation. */
  static readonly className = 'CosineGate';
  /** The arguments: defaults and checks (`minTemperature` first, as `initialTemperature` must not be below it). */
  static readonly argsTable: ArgsTable<CosineGateArgs> = {
    numOutputs: arg.integer({ min: 1 }),
    inputDim: arg.integer({ min: 1, optional: true }),
    routingDim: arg.integer({ min: 1, default: 16 }),
    minTemperature: arg.number({ above: 0, default: 0.01 }),
    initialTemperature: arg.value<number>({
      default: 0.07,
      check: (where, name, value, resolved) => {
        positive.check!(where, name, value, resolved);
        const min = resolved['minTemperature'] as number;
        if (value < min) throw new MoEArgumentError(where, name, `a number >= minTemperature (${min})`, String(value));
      },
    }),
    learnTemperature: arg.boolean({ default: true }),
    seed: arg.number({ optional: true }),
  };
  /** Selects experts, gives its per-expert router vectors, and honours excluded experts (their columns score `EXCLUDED_LOGIT`). */
  static readonly capabilities: readonly Capability[] = ['selectExperts', 'gateWeights', 'excludedExperts'];

  /** Validates the arguments (unknown options are rejected by name); builds now if `inputDim` is given. */
  constructor(args: CosineGateArgs) {
    super(args);
    if (this.config.inputDim !== undefined) this.build(this.config.inputDim);
  }

  /** Score columns `N`. */
  get numOutputs(): number {
    return this.config.numOutputs;
  }

  /** Creates `projection` `W_p` `[Dg, d_e]`, `embeddings` `E_emb` `[d_e, N]` and, when learned, `logTemperature` `log τ` `[]`; a second call is a no-op. */
  build(inputDim: number): void {
    this.assertLive('CosineGate.build');
    if (this.hasVariable('projection')) return;
    const { routingDim, initialTemperature, learnTemperature } = this.config;
    this.addVariable('projection', createGateKernel(inputDim, routingDim, 'glorotUniform', this.seeds.next()));
    this.addVariable('embeddings', orthogonal(routingDim, this.numOutputs, 0.32, this.seeds.next()));
    if (learnTemperature) this.addVariable('logTemperature', tf.scalar(Math.log(initialTemperature)));
  }

  /** The temperature `τ = max(exp(log τ), minTemperature)` as a scalar the caller owns. */
  temperature(): tf.Scalar {
    const where = 'CosineGate.temperature';
    this.assertLive(where);
    const { minTemperature, initialTemperature, learnTemperature } = this.config;
    if (!learnTemperature) return tf.scalar(initialTemperature);
    const logTemperature = this.variable('logTemperature', where); // [] log τ
    return tf.tidy(() => tf.exp(tf.maximum(logTemperature, Math.log(minTemperature))) as tf.Scalar); // clamped: no gradient below the bound (Tutel)
  }

  /** `[T, Dg]` → `[T, N]` = `cos(W_p x, e_i) / τ` (X-MoE §3), excluded experts at `EXCLUDED_LOGIT`. */
  scores(gateInput: tf.Tensor2D, options: RouteOptions): GateOutput {
    const where = 'CosineGate.scores';
    this.assertLive(where);
    this.build(gateInput.shape[gateInput.rank - 1]!);
    const projection = this.variable('projection', where); // [Dg, d_e] W_p
    const embeddings = this.variable('embeddings', where); // [d_e, N] E_emb
    checkGateInput(where, gateInput, projection.shape[0]!);
    const logits = tf.tidy(() => {
      const projected = l2Normalize(tf.matMul(tf.cast(gateInput, 'float32'), projection as tf.Tensor2D), 1); // [T, d_e] W_p x / ‖W_p x‖
      const experts = l2Normalize(embeddings, 0); // [d_e, N] e_i / ‖e_i‖
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
    const projection = this.variable('projection', 'CosineGate.gateWeights'); // [Dg, d_e]
    const embeddings = this.variable('embeddings', 'CosineGate.gateWeights'); // [d_e, N]
    return tf.tidy(() => tf.matMul(projection as tf.Tensor2D, l2Normalize(embeddings, 0) as tf.Tensor2D));
  }

  /** A new gate over the experts `keep` (their embeddings copied; `W_p` and `τ` copied); this gate is unchanged. */
  selectExperts(keep: readonly number[]): CosineGate {
    const where = 'CosineGate.selectExperts';
    const projection = this.variable('projection', where);
    checkExpertSelection(where, keep, this.numOutputs);
    const gate = new CosineGate({ ...this.config, numOutputs: keep.length, inputDim: projection.shape[0]! });
    gate.variable('projection', where).assign(projection);
    copyExpertSlices(gate.variable('embeddings', where), this.variable('embeddings', where), keep, 1);
    if (this.hasVariable('logTemperature')) gate.variable('logTemperature', where).assign(this.variable('logTemperature', where));
    return gate;
  }
}

/** Creates a {@link CosineGate}, mirroring `tf.layers.dense(args)`. */
export function cosineGate(args: CosineGateArgs): CosineGate {
  return new CosineGate(args);
}
