import * as tf from '@tensorflow/tfjs-core';
import { arg, checkDtype, checkRank, Component, MoEArgumentError, offTape, type ArgsTable } from '@moekit/core';
import { rowQuantile } from './error-quantile.js';

/** Configuration of a {@link SpatialMoE}. */
export interface SpatialMoEArgs {
  /** Input channels `Cin`. */
  inputChannels: number;
  /** Experts `E`: each is one `k × k` convolution filter producing one channel. */
  numExperts: number;
  /** Experts chosen per location `K` (the reference's `out_planes`): the layer outputs `K` channels. Default 1. */
  topK?: number;
  /** Square kernel size `k` of each expert (odd, same padding). Default 3. */
  kernelSize?: number;
  /** Scale each selected expert by its routing weight (default, `true`), or not (the reference's `unweighted`). */
  weighted?: boolean;
  /** Stop the task gradient at the gate (the reference's `block_gate_grad`), e.g. to train it by the RC loss alone. Default `false`. */
  blockGateGradient?: boolean;
  /**
   * Expert error damping (Dryden & Hoefler 2022, §2.3): the factor the gradient to an expert is scaled by at
   * locations where its error is judged wrong. 1 (default) turns damping off; the reference's
   * `dampen_expert_error_factor` is 0 when enabled.
   */
  dampingFactor?: number;
  /** The quantile of `|error|` per sample above which an error counts as wrong (the reference's `routing_error_quantile`). Default 0.7. */
  errorQuantile?: number;
  /** Seed of the He-normal expert kernels. */
  seed?: number;
}

type SpatialMoEConfig = Required<Omit<SpatialMoEArgs, 'seed'>> & Pick<SpatialMoEArgs, 'seed'>;

/** What {@link SpatialMoE.apply} returns. */
export interface SpatialMoEOutput {
  /** `[B, H, W, K]`: channel `j` is the `j`-th ranked expert's output at each location. */
  output: tf.Tensor4D;
  /** `[H, W, K]` (a spatial gate's weights) or `[B, H, W, K]` int32: the experts chosen, in rank order. */
  expertIndex: tf.Tensor;
}

/**
 * The Spatial Mixture-of-Experts layer (Dryden & Hoefler, NeurIPS 2022, arXiv:2211.13491, §2; the
 * reference's `SpatialMoE2d` and `SMoERouting`, spcl/smoe `smoe/models/smoe.py` and `smoe_routing.py` at
 * b62f291). `E` conv experts (one `k × k` filter each) and, at every location `(h, w)`, the top-`K` experts
 * of the routing weights `g[h, w, :]` (a {@link SpatialGate}'s, or any `[B, H, W, E]`):
 *
 *   `y[b, h, w, j] = g[h, w, e_j] · (w_{e_j} ⋆ x_b)[h, w]`, `e_j` the `j`-th largest of `g[h, w, :]` (§2.1),
 *
 * without the factor `g` when `weighted: false`. Gradients reach an expert and the gate only through the
 * locations where that expert was selected (the reference's straight-through routing). Options from the
 * paper and the reference: expert error damping (§2.3), blocking the task gradient to the gate. The
 * routing-classification loss that trains the gate (§2.2) is {@link routingClassificationLoss}. This
 * version computes every expert everywhere and then selects (as the reference does); the active compute
 * per location is `K` filters.
 *
 * @example
 * ```ts
 * import { SpatialGate, SpatialMoE } from '@moekit/experts-conv';
 *
 * const gate = new SpatialGate({ height: 32, width: 32, numExperts: 4, seed: 1 });
 * const smoe = new SpatialMoE({ inputChannels: 1, numExperts: 4, seed: 2 });
 * const { output, expertIndex } = smoe.apply(x, gate.routingWeights({ training: true })); // [B, 32, 32, 1], [32, 32, 1]
 * ```
 */
export class SpatialMoE extends Component<SpatialMoEArgs, SpatialMoEConfig> {
  /** Name under which the class is registered for (de)serialisation. */
  static readonly className = 'SpatialMoE';
  /** The arguments: defaults and checks. */
  static readonly argsTable: ArgsTable<SpatialMoEArgs> = {
    inputChannels: arg.integer({ min: 1 }),
    numExperts: arg.integer({ min: 1 }),
    topK: arg.integer({ min: 1, default: 1 }),
    kernelSize: arg.integer({ min: 1, default: 3 }),
    weighted: arg.boolean({ default: true }),
    blockGateGradient: arg.boolean({ default: false }),
    dampingFactor: arg.number({ min: 0, max: 1, default: 1 }),
    errorQuantile: arg.number({ min: 0, max: 1, default: 0.7 }),
    seed: arg.number({ optional: true }),
  };

  /** Validates the arguments (`K ≤ E`, odd `k`) and draws the expert kernels (He normal). */
  constructor(args: SpatialMoEArgs) {
    super(args);
    const { inputChannels, numExperts: E, topK: K, kernelSize: k } = this.config;
    if (K > E) throw new MoEArgumentError('SpatialMoE', 'topK', `at most numExperts = ${E}`, String(K));
    if (k % 2 === 0) throw new MoEArgumentError('SpatialMoE', 'kernelSize', 'an odd integer (same padding)', String(k));
    this.addVariable('kernel', tf.randomNormal([k, k, inputChannels, E], 0, Math.sqrt(2 / (k * k * inputChannels)), 'float32', this.seeds.next())); // He et al. 2015
  }

  /** The experts' filters `[k, k, Cin, E]`: expert `e` is `kernel[:, :, :, e]`. */
  get kernel(): tf.Variable {
    return this.variable('kernel', 'SpatialMoE.kernel');
  }

  /**
   * `x` `[B, H, W, Cin]` and the routing weights `[H, W, E]` or `[B, H, W, E]` → the selected experts'
   * outputs `[B, H, W, K]` and which experts they are. `training` enables expert error damping.
   */
  apply(x: tf.Tensor, routingWeights: tf.Tensor, options: { training?: boolean } = {}): SpatialMoEOutput {
    const where = 'SpatialMoE.apply';
    const kernel = this.variable('kernel', where);
    const { inputChannels, numExperts: E, topK: K, weighted, blockGateGradient, dampingFactor, errorQuantile } = this.config;
    checkRank(where, 'x', x, 4);
    checkDtype(where, 'x', x, 'float32');
    if (x.shape[3] !== inputChannels) throw new MoEArgumentError(where, 'x', `${inputChannels} channels (inputChannels)`, `shape [${x.shape.join(', ')}]`);
    const [B, H, W] = x.shape as number[];
    const spatial = routingWeights.rank === 3;
    const expectedShape = spatial ? [H!, W!, E] : [B!, H!, W!, E];
    if ((routingWeights.rank !== 3 && routingWeights.rank !== 4) || routingWeights.shape.join() !== expectedShape.join()) {
      throw new MoEArgumentError(where, 'routingWeights', `shape [${H}, ${W}, ${E}] or [${B}, ${H}, ${W}, ${E}]`, `shape [${routingWeights.shape.join(', ')}]`);
    }
    const damp = options.training === true && dampingFactor < 1;
    return tf.tidy(() => {
      // The plan: top-K per location, off the tape (tfjs has no TopK gradient).
      const [expertIndex, mask] = offTape(() => {
        const index = tf.topk(routingWeights, K).indices; // [(B,) H, W, K]
        return [index, tf.cast(tf.oneHot(index, E), 'float32')] as const; // [(B,) H, W, K, E]
      });
      const experts = tf.conv2d(x as tf.Tensor4D, kernel as tf.Tensor4D, 1, 'same'); // [B, H, W, E]
      const select = tf.customGrad((...inputs: (tf.Tensor | tf.GradSaveFunc)[]) => {
        const [e, g, save] = inputs as [tf.Tensor4D, tf.Tensor, tf.GradSaveFunc];
        const scaled = weighted ? tf.mul(e, g) : e; // [B, H, W, E]
        const value = tf.sum(tf.mul(mask, tf.expandDims(scaled, -2)), -1) as tf.Tensor4D; // [B, H, W, K]
        save([e, g, mask]); // the mask is kept with them: the backward pass runs after this tidy
        return {
          value,
          gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
            const [ee, gg, m] = saved as [tf.Tensor4D, tf.Tensor, tf.Tensor];
            // §2.3 expert error damping: scale the expert's gradient where |error| is above the per-sample
            // quantile (the reference scales |dy| by numel/2, undoing an MSE mean, before comparing; eps 1e-3).
            let dyExperts = dy; // [B, H, W, K]
            if (damp) {
              const magnitude = tf.mul(tf.abs(dy), dy.size / 2); // [B, H, W, K]
              const threshold = tf.reshape(rowQuantile(tf.reshape(magnitude, [B!, -1]) as tf.Tensor2D, errorQuantile), [B!, 1, 1, 1]);
              const wrong = tf.cast(tf.greater(magnitude, tf.add(threshold, 1e-3)), 'float32'); // [B, H, W, K]
              dyExperts = tf.mul(dy, tf.add(1, tf.mul(wrong, dampingFactor - 1)));
            }
            const scatter = (t: tf.Tensor): tf.Tensor4D => tf.sum(tf.mul(m, tf.expandDims(t, -1)), -2) as tf.Tensor4D; // [B, H, W, K] → [B, H, W, E]
            const dExperts = weighted ? tf.mul(scatter(dyExperts), gg) : scatter(dyExperts); // [B, H, W, E]
            let dGate: tf.Tensor = blockGateGradient ? tf.zerosLike(gg) : weighted ? tf.mul(scatter(dy), ee) : scatter(dy); // [B, H, W, E]
            if (spatial && !blockGateGradient) dGate = tf.sum(dGate, 0); // [H, W, E]: the gate is shared by the batch
            return [dExperts, dGate];
          },
        };
      });
      const output = select(experts, routingWeights) as tf.Tensor4D;
      return { output, expertIndex };
    });
  }
}
