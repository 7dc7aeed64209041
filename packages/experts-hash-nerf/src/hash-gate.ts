import * as tf from '@tensorflow/tfjs-core';
import { arg, Component, loadBalancingLoss, selectTopK, SeedStream, type ArgsTable, type CapacityConfig, type Router, type RouteOptions, type TokenChoiceOutput } from '@moekit/core';
import { checkPoints, HashGridEncoding, type HashGridEncodingArgs } from './hash-grid-encoding.js';
import { Mlp } from './mlp.js';

/** Configuration of a {@link HashGate}. */
export interface HashGateArgs {
  /** Experts `E` (≥ 1). */
  numExperts: number;
  /**
   * The gate's own hash encoding. Default `{ numLevels: 4, log2TableSize: 12, featuresPerLevel: 2,
   * baseResolution: 2, finestResolution: 16 }`: coarse, since the gate decomposes the scene into regions.
   */
  encoding?: HashGridEncodingArgs;
  /** Hidden width of the gate MLP. Default 32. */
  hiddenDim?: number;
  /** Weight of the Switch load-balancing loss (Fedus et al. 2021, Eq. 4). Default 0.01. */
  balanceWeight?: number;
  /** Seed of the encoding and MLP initialisers. Default: unseeded. */
  seed?: number;
}

/** The gate encoding's defaults (see {@link HashGateArgs.encoding}). */
export const HASH_GATE_ENCODING_DEFAULTS: Readonly<HashGridEncodingArgs> = { numLevels: 4, log2TableSize: 12, featuresPerLevel: 2, baseResolution: 2, finestResolution: 16 };

/** A {@link HashGate}'s arguments with the defaults filled in (`encoding` as given: its defaults are {@link HASH_GATE_ENCODING_DEFAULTS}). */
export interface HashGateConfig extends Required<Omit<HashGateArgs, 'encoding' | 'seed'>>, Pick<HashGateArgs, 'encoding' | 'seed'> {}

/**
 * The hash-based gate of Switch-NeRF++ (Mi et al. 2025, "Learning Heterogeneous Mixture of Scene Experts
 * for Large-scale Neural Radiance Fields", https://arxiv.org/abs/2505.02005): `G(x) = Top1(Softmax(MLP(Hash(x))))`
 * over 3-D points `x` `[T, 3]` in the unit cube. A moekit {@link Router} (`k = 1`): pass it to
 * `MixtureOfExperts` with the points as the gate input, and the combine multiplies each expert's output
 * by its gate value, so the gate learns from the rendering loss (plus the Switch balance loss).
 * Dropless by default (`capacity` 0 / 0): a dropped point would render as empty space.
 *
 * Its encoding alone ({@link HashGate.encoding}) is a gate input path for any other router: route on
 * `gate.encoding.apply(points)` `[T, L·F]` (gradients reach its table through the router's probabilities).
 *
 * @example
 * ```ts
 * import { MixtureOfExperts } from '@moekit/core';
 * import { HashGate } from '@moekit/experts-hash-nerf';
 *
 * const gate = new HashGate({ numExperts: 4, seed: 1 });
 * const moe = new MixtureOfExperts({ router: gate, experts });
 * const { output } = moe.apply(points, { training: true }); // points [T, 3] are also the gate input
 * ```
 */
export class HashGate extends Component<HashGateArgs, HashGateConfig> implements Router {
  /** Name under which the class is registered for (de)serialisation. */
  static readonly className = 'HashGate';
  /** The arguments: defaults and checks (the encoding's are checked by {@link HashGridEncoding}). */
  static readonly argsTable: ArgsTable<HashGateArgs> = {
    numExperts: arg.integer({ min: 1 }),
    encoding: arg.value<HashGridEncodingArgs>({ optional: true }),
    hiddenDim: arg.integer({ min: 1, default: 32 }),
    balanceWeight: arg.number({ min: 0, default: 0.01 }),
    seed: arg.number({ optional: true }),
  };
  /** Top-1: `K = 1`. */
  readonly k = 1;
  /** Dropless in training and evaluation. */
  readonly capacity: CapacityConfig = { train: 0, eval: 0 };
  /** The gate's own hash encoding. */
  readonly encoding: HashGridEncoding;
  /** `[L·F] → [hiddenDim] → [E]` gate MLP. */
  readonly mlp: Mlp;

  /** Validates the arguments (unknown options rejected by name) and draws the encoding and MLP. */
  constructor(args: HashGateArgs) {
    super(args);
    const { numExperts, encoding, hiddenDim, seed } = this.config;
    const seeds = new SeedStream(seed);
    this.encoding = this.addPart('encoding', new HashGridEncoding({ ...HASH_GATE_ENCODING_DEFAULTS, ...encoding, seed: encoding?.seed ?? seeds.next() })); // saved as encoding/table
    this.mlp = this.addPart('mlp', new Mlp({ inputDim: this.encoding.outputDim, hiddenDim, outputDim: numExperts, seed: seeds.next() })); // mlp/w1, …
  }

  /** Experts `E`. */
  get numExperts(): number {
    return this.config.numExperts;
  }

  /** Weight of the load-balancing loss in `auxLosses.total`. */
  get balanceWeight(): number {
    return this.config.balanceWeight;
  }

  /** Gate logits `MLP(Hash(x))` `[T, E]` of points `[T, 3]`. */
  logits(points: tf.Tensor2D): tf.Tensor2D {
    return this.logitsOf(points, 'HashGate.logits', 'points');
  }

  /** {@link HashGate.logits}, its errors naming `where` and `name` (a NaN or infinite coordinate included). */
  private logitsOf(points: tf.Tensor2D, where: string, name: string): tf.Tensor2D {
    this.assertLive(where);
    checkPoints(where, name, points);
    return tf.tidy(() => {
      const features = this.encoding.encode(points, this.encoding.config.interpolation, { where, name, shape: points.shape, offset: 0 }); // [T, L·F]
      return this.mlp.apply(features); // [T, E]
    });
  }

  /** Routes points `[T, 3]`: `probs = Softmax(logits)`, top-1 expert, Switch load-balancing loss. */
  route(gateInput: tf.Tensor2D, _options: RouteOptions): TokenChoiceOutput {
    return tf.tidy(() => {
      const logits = this.logitsOf(gateInput, 'HashGate.route', 'gateInput'); // [T, E]
      const probs = tf.softmax(logits) as tf.Tensor2D; // [T, E]
      const expertIndex = selectTopK(probs, 1); // [T, 1] Top1, off the tape
      const loadBalancing = loadBalancingLoss(probs, expertIndex, this.numExperts);
      return { logits, probs, expertIndex, auxLosses: { total: tf.mul(this.balanceWeight, loadBalancing) as tf.Scalar, loadBalancing } };
    });
  }

  /** The owning (top-1) expert of each of `[T, 3]` points, read back to the host. */
  owners(points: tf.Tensor2D): Int32Array {
    const top = tf.tidy(() => tf.argMax(this.logitsOf(points, 'HashGate.owners', 'points'), 1)); // [T]
    const owners = Int32Array.from(top.dataSync());
    top.dispose();
    return owners;
  }
}
