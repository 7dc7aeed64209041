import * as tf from '@tensorflow/tfjs-core';
import { applyPerGroup, arg, checkInteger, Component, describeValue, MoEArgumentError, rejectUnknownOptions, SeedStream, type ArgsTable, type ExpertApplyOptions, type ExpertBank } from '@moekit/core';
import { checkPoints, HashGridEncoding, resolveHashGridEncodingArgs, type HashGridEncodingArgs, type PointsSource } from './hash-grid-encoding.js';
import { Mlp } from './mlp.js';

/** One hash-grid expert: its own encoding (resolution range, table size) and decoder width. */
export interface HashExpertSpec {
  /** The expert's hash encoding; unset fields take {@link HashGridEncoding}'s defaults. */
  encoding?: HashGridEncodingArgs;
  /** Hidden width of the expert's decoder MLP. Default 32. */
  hiddenDim?: number;
}

/** Configuration of a {@link HashGridExperts} bank. */
export interface HashGridExpertsArgs {
  /** One spec per expert (`E = experts.length ≥ 1`); experts may differ in every field. */
  experts: HashExpertSpec[];
  /** Seed of every expert's initialisers (each draws from its own seed). Default: unseeded. */
  seed?: number;
}

/** Checks every spec: known options, a valid encoding, `hiddenDim` ≥ 1 (errors name `experts[e].…`). */
function checkExpertSpecs(where: string, name: string, experts: HashExpertSpec[]): void {
  if (!Array.isArray(experts) || experts.length === 0) throw new MoEArgumentError(where, name, 'a non-empty array of expert specs', describeValue(experts));
  experts.forEach((spec, e) => {
    rejectUnknownOptions(`${where} experts[${e}]`, spec, ['encoding', 'hiddenDim']);
    resolveHashGridEncodingArgs(spec.encoding ?? {}, `${where} experts[${e}].encoding`);
    checkInteger(`${where} experts[${e}]`, 'hiddenDim', spec.hiddenDim ?? 32, 1);
  });
}

/** Per-point output width of a {@link HashGridExperts} bank: `[σ, r, g, b]`. */
export const RADIANCE_WIDTH = 4;

/**
 * A heterogeneous bank of hash-grid experts, Switch-NeRF++ (Mi et al. 2025, https://arxiv.org/abs/2505.02005):
 * expert `e` is its own Instant-NGP {@link HashGridEncoding} (its own resolution range and table size)
 * and a small MLP decoding a point `[3]` into `[σ, r, g, b]`: density `σ = softplus(raw)` (smooth and
 * positive, Mip-NeRF's choice over Instant-NGP's `exp`) and colour `sigmoid(raw)` (NeRF). No view
 * direction: the colour is Lambertian. As experts differ in size, both layouts loop over experts:
 * padded `[E, C, 3]` → `[E, C, 4]`, grouped `[N, 3]` → `[N, 4]` (each expert reads only its rows).
 *
 * @example
 * ```ts
 * import { HashGridExperts } from '@moekit/experts-hash-nerf';
 *
 * const experts = new HashGridExperts({ experts: [
 *   { encoding: { baseResolution: 4, finestResolution: 32, log2TableSize: 12 } },   // coarse, small
 *   { encoding: { baseResolution: 16, finestResolution: 128, log2TableSize: 15 } }, // fine, large
 * ], seed: 1 });
 * ```
 */
export class HashGridExperts extends Component<HashGridExpertsArgs> implements ExpertBank {
  /** Name under which the class is registered for (de)serialisation. */
  static readonly className = 'HashGridExperts';
  /** The arguments: the specs (each checked) and the seed. */
  static readonly argsTable: ArgsTable<HashGridExpertsArgs> = {
    experts: arg.value<HashExpertSpec[]>({ expected: 'a non-empty array of expert specs', check: checkExpertSpecs }),
    seed: arg.number({ optional: true }),
  };
  /** Each expert's encoding. */
  readonly encodings: readonly HashGridEncoding[];
  /** Each expert's decoder MLP `[L_e·F_e] → [H_e] → [4]`. */
  readonly decoders: readonly Mlp[];

  /** Validates every spec (errors name `experts[e].…`) and draws each expert's weights. */
  constructor(args: HashGridExpertsArgs) {
    super(args);
    const { experts, seed } = this.config;
    const seeds = new SeedStream(seed);
    this.encodings = experts.map((spec) => new HashGridEncoding({ ...spec.encoding, seed: spec.encoding?.seed ?? seeds.next() }));
    this.decoders = experts.map((spec, e) => new Mlp({ inputDim: this.encodings[e]!.outputDim, hiddenDim: spec.hiddenDim ?? 32, outputDim: RADIANCE_WIDTH, seed: seeds.next() }));
    // saved expert by expert: encodings/e/table, decoders/e/w1, …
    this.encodings.forEach((enc, e) => {
      this.addPart(`encodings/${e}`, enc);
      this.addPart(`decoders/${e}`, this.decoders[e]!);
    });
  }

  /** Experts `E`. */
  get numExperts(): number {
    return this.config.experts.length;
  }

  /** Parameters of each expert (they differ: the bank is heterogeneous). */
  get parametersPerExpert(): number[] {
    return this.encodings.map((enc, e) => [...enc.trainableVariables, ...this.decoders[e]!.trainableVariables].reduce((n, v) => n + v.size, 0));
  }

  /** `[3]` → `[4]`. */
  outputFeatureShape(_inputFeatureShape: number[]): number[] {
    return [RADIANCE_WIDTH];
  }

  /** Expert `e` on points `[N, 3]` → `[N, 4]` = `[softplus(raw_σ), sigmoid(raw_rgb)]`. */
  applyExpert(expert: number, points: tf.Tensor2D): tf.Tensor2D {
    const where = 'HashGridExperts.applyExpert';
    this.assertLive(where);
    checkInteger(where, 'expert', expert, 0, this.numExperts - 1);
    checkPoints(where, 'points', points);
    return this.runExpert(expert, points, { where, name: 'points', shape: points.shape, offset: 0 });
  }

  /** Expert `e` on checked points `[N, 3]`; a NaN or infinite coordinate is named as `source` says. */
  private runExpert(expert: number, points: tf.Tensor2D, source: PointsSource): tf.Tensor2D {
    return tf.tidy(() => {
      const encoding = this.encodings[expert]!;
      const raw = this.decoders[expert]!.apply(encoding.encode(points, encoding.config.interpolation, source)); // [N, 4]
      const isDensity = tf.tensor2d([[1, 0, 0, 0]]); // [1, 4] column masks instead of a split (SplitV is slow on cpu)
      // [N, 4]: σ = softplus(raw_0) ≥ 0, rgb = sigmoid(raw_1..3) in (0, 1)
      return tf.add(tf.mul(tf.softplus(raw), isDensity), tf.mul(tf.sigmoid(raw), tf.sub(1, isDensity))) as tf.Tensor2D;
    });
  }

  /** Padded buffers `[E, C, 3]` → `[E, C, 4]`, one expert at a time. */
  apply(dispatched: tf.Tensor, _options?: ExpertApplyOptions): tf.Tensor {
    this.assertLive('HashGridExperts.apply');
    if (dispatched.rank !== 3 || dispatched.shape[0] !== this.numExperts || dispatched.shape[2] !== 3) {
      throw new MoEArgumentError('HashGridExperts.apply', 'dispatched', `shape [${this.numExperts}, C, 3]`, `shape ${describeValue(dispatched.shape)}`);
    }
    const source = { where: 'HashGridExperts.apply', name: 'dispatched', shape: dispatched.shape };
    const perExpert = dispatched.shape[1]! * 3; // coordinates in one expert's buffer
    return tf.tidy(() => tf.stack(tf.unstack(dispatched).map((buffer, e) => this.runExpert(e, buffer as tf.Tensor2D, { ...source, offset: e * perExpert })))); // [E, C, 4]
  }

  /** Grouped rows `[N, 3]`, expert `e` owning the next `groupSizes[e]` → `[N, 4]`; empty experts are skipped. */
  applyGrouped(rows: tf.Tensor, groupSizes: number[], _options?: ExpertApplyOptions): tf.Tensor {
    const where = 'HashGridExperts.applyGrouped';
    this.assertLive(where);
    if (!groupSizes.every((n) => Number.isInteger(n) && n >= 0)) throw new MoEArgumentError(where, 'groupSizes', 'integers >= 0', describeValue(groupSizes));
    const total = groupSizes.reduce((a, b) => a + b, 0);
    if (rows.rank !== 2 || rows.shape[0] !== total || rows.shape[1] !== 3 || groupSizes.length !== this.numExperts) {
      throw new MoEArgumentError(where, 'rows', `shape [${total}, 3] with ${this.numExperts} group sizes`, `shape ${describeValue(rows.shape)} with ${groupSizes.length}`);
    }
    const starts = groupSizes.map((_, e) => groupSizes.slice(0, e).reduce((a, b) => a + b, 0) * 3); // first coordinate of each group
    const source = { where, name: 'rows', shape: rows.shape };
    return applyPerGroup(rows, groupSizes, RADIANCE_WIDTH, (group, e) => this.runExpert(e, group, { ...source, offset: starts[e]! })); // [N, 4]
  }
}
