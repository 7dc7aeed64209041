import * as tf from '@tensorflow/tfjs-core';
import { arg, Component, type ArgsTable } from '@moekit/core';

/** Configuration of a {@link SpatialGate}. */
export interface SpatialGateArgs {
  /** Height `H` of the grid it routes. */
  height: number;
  /** Width `W` of the grid it routes. */
  width: number;
  /** Experts `E`. */
  numExperts: number;
  /** Experts chosen per location `K` (the SMoE's `out_planes`); sets the initial bound `√(3E/K)`. Default 1. */
  topK?: number;
  /** `'softmax'` normalises the routing weights over the experts at each location (the reference's `norm_weighted`). Default `'none'`. */
  normalize?: 'none' | 'softmax';
  /** Route by `|g|` (the reference's `absval_routing`). Default `false`. */
  absoluteValue?: boolean;
  /** Training noise: `N(0, (noiseStdScale / E)²)` added to the weights before selection (the reference's `noise_std_scale`); 0 turns it off. Default 0. */
  noiseStdScale?: number;
  /** Seed of the initial tensor and the noise. */
  seed?: number;
}

type SpatialGateConfig = Required<Omit<SpatialGateArgs, 'seed'>> & Pick<SpatialGateArgs, 'seed'>;

/**
 * The Spatial Mixture-of-Experts gate (Dryden & Hoefler, NeurIPS 2022, arXiv:2211.13491, §2.1; the
 * reference's `SpatialLatentTensorGate2d`, spcl/smoe `smoe/models/smoe_gates.py` at b62f291): a learned
 * tensor `G ∈ ℝ^{H×W×E}` that does not depend on the input — routing by location, not content. Each
 * location picks its top-`K` experts by `G[h, w, :]` ({@link SpatialMoE}). Initialised uniform in
 * `±√(3E/K)` as the reference does (Kaiming-uniform with fan `K/E`, gain 1). Options from the reference
 * config: softmax normalisation, absolute-value routing, training noise of sd `noiseStdScale / E`.
 *
 * @example
 * ```ts
 * import { SpatialGate } from '@moekit/experts-conv';
 *
 * const gate = new SpatialGate({ height: 32, width: 32, numExperts: 4, seed: 1 });
 * const weights = gate.routingWeights({ training: true }); // [32, 32, 4]
 * ```
 */
export class SpatialGate extends Component<SpatialGateArgs, SpatialGateConfig> {
  /** Name under which the class is registered for (de)serialisation. */
  static readonly className = 'SpatialGate';
  /** The arguments: defaults and checks. */
  static readonly argsTable: ArgsTable<SpatialGateArgs> = {
    height: arg.integer({ min: 1 }),
    width: arg.integer({ min: 1 }),
    numExperts: arg.integer({ min: 1 }),
    topK: arg.integer({ min: 1, default: 1 }),
    normalize: arg.oneOf<'none' | 'softmax'>(['none', 'softmax'], { default: 'none' }),
    absoluteValue: arg.boolean({ default: false }),
    noiseStdScale: arg.number({ min: 0, default: 0 }),
    seed: arg.number({ optional: true }),
  };

  /** Validates the arguments and draws the latent tensor. */
  constructor(args: SpatialGateArgs) {
    super(args);
    const { height, width, numExperts: E, topK: K } = this.config;
    const bound = Math.sqrt((3 * E) / K); // reference: gain 1, fan = K / E, bound = gain·√(3 / fan)
    this.addVariable('latent', tf.randomUniform([height, width, E], -bound, bound, 'float32', this.seeds.next()));
  }

  /** The learned tensor `G`, `[H, W, E]`. */
  get latent(): tf.Variable {
    return this.variable('latent', 'SpatialGate.latent');
  }

  /**
   * The routing weights `[H, W, E]` the layer selects by: `G`, plus noise while training (when
   * `noiseStdScale > 0`), then `|·|` (with `absoluteValue`), then a softmax over experts (with
   * `normalize: 'softmax'`) — the reference gate's order.
   */
  routingWeights(options: { training?: boolean } = {}): tf.Tensor3D {
    const latent = this.variable('latent', 'SpatialGate.routingWeights');
    const { numExperts: E, noiseStdScale, absoluteValue, normalize } = this.config;
    return tf.tidy(() => {
      let g: tf.Tensor = tf.clone(latent); // [H, W, E]
      if (options.training && noiseStdScale > 0) g = tf.add(g, tf.randomNormal(g.shape, 0, noiseStdScale / E, 'float32', this.seeds.next()));
      if (absoluteValue) g = tf.abs(g);
      if (normalize === 'softmax') g = tf.softmax(g, -1);
      return g as tf.Tensor3D;
    });
  }

  /** The expert each location ranks first, `[H, W]` int32 (the gate map). */
  gateMap(): tf.Tensor2D {
    const latent = this.variable('latent', 'SpatialGate.gateMap');
    return tf.tidy(() => tf.argMax(this.config.absoluteValue ? tf.abs(latent) : latent, -1) as tf.Tensor2D);
  }
}
