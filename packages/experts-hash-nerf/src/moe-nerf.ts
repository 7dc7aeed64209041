import * as tf from '@tensorflow/tfjs-core';
import { checkFiniteNumber, MixtureOfExperts, type AuxLosses, type RoutingMetrics } from '@moekit/core';
import { checkPoints } from './hash-grid-encoding.js';
import type { HashGate } from './hash-gate.js';
import type { HashGridExperts } from './hash-grid-experts.js';
import type { Rays } from './pinhole-camera.js';
import { rayPoints } from './ray-points.js';
import { stratifiedSamples } from './stratified-samples.js';
import type { Vec3 } from './vec3.js';
import { volumeRender } from './volume-render.js';

/** Configuration of a {@link MoENeRF}. */
export interface MoENeRFArgs {
  /** The router: a {@link HashGate} over the same points. */
  gate: HashGate;
  /** The experts; `experts.numExperts` must equal `gate.numExperts`. */
  experts: HashGridExperts;
}

/** Options of {@link MoENeRF.render}. */
export interface NeRFRenderOptions {
  /** Start of every ray's interval. */
  near: number;
  /** End of every ray's interval. */
  far: number;
  /** Samples per ray `S`. */
  numSamples: number;
  /** Training mode: jittered samples (unless `perturb` says otherwise). */
  training: boolean;
  /** Jitter samples inside their bins. Default: `training`. */
  perturb?: boolean;
  /** Seed of the jitter. Default: unseeded. */
  seed?: number;
  /** Background colour. Default black. */
  background?: Vec3;
}

/** What {@link MoENeRF.field} returns; the caller owns every tensor. */
export interface RadianceFieldOutput {
  /** `[N]` gated density `g·σ`. */
  sigma: tf.Tensor1D;
  /** `[N, 3]` gated colour `g·c`. */
  rgb: tf.Tensor2D;
  /** The gate's aux losses (`total` weighted). */
  auxLosses: AuxLosses;
  /** Load per expert and the rest of the routing metrics of this call. */
  metrics: RoutingMetrics;
}

/** What {@link MoENeRF.render} returns; the caller owns every tensor. */
export interface NeRFRenderOutput {
  /** `[R, 3]` rendered colours. */
  rgb: tf.Tensor2D;
  /** `[R]` accumulated opacity. */
  opacity: tf.Tensor1D;
  /** The gate's aux losses (`total` weighted). */
  auxLosses: AuxLosses;
  /** Routing metrics of the `R·S` points. */
  metrics: RoutingMetrics;
}

/**
 * A small Switch-NeRF++-style radiance field (Mi et al. 2025, https://arxiv.org/abs/2505.02005): a
 * core `MixtureOfExperts` that routes 3-D points with a {@link HashGate} (top-1, dropless) to
 * {@link HashGridExperts}; each point's `[σ, r, g, b]` is its expert's output times the gate value
 * `g` (Shazeer et al. 2017, Eq. 1 with one choice), so the gate learns from the photometric loss.
 * {@link MoENeRF.render} samples rays, queries the field and composites (NeRF Eqs. 2-3).
 *
 * @example
 * ```ts
 * import { HashGate, MoENeRF } from '@moekit/experts-hash-nerf';
 *
 * const nerf = new MoENeRF({ gate: new HashGate({ numExperts: 2 }), experts });
 * const { rgb, auxLosses } = nerf.render(rays, { near: 0.5, far: 2.5, numSamples: 32, training: true });
 * ```
 */
export class MoENeRF {
  /** The gate. */
  readonly gate: HashGate;
  /** The experts. */
  readonly experts: HashGridExperts;
  /** The MoE layer routing points from {@link MoENeRF.gate} to {@link MoENeRF.experts}. */
  readonly moe: MixtureOfExperts;

  /** Builds the MoE (core checks that gate and experts agree on `E`). */
  constructor(args: MoENeRFArgs) {
    this.gate = args.gate;
    this.experts = args.experts;
    this.moe = new MixtureOfExperts({ router: args.gate, experts: args.experts, checkFinite: false });
  }

  /** The gate's and the experts' variables. */
  get trainableVariables(): tf.Variable[] {
    return this.moe.trainableVariables;
  }

  /** Queries the field at points `[N, 3]` (the points are both the experts' input and the gate input). */
  field(points: tf.Tensor2D, options: { training: boolean }): RadianceFieldOutput {
    checkPoints('MoENeRF.field', 'points', points);
    const { output, auxLosses, metrics } = this.moe.apply(points, { training: options.training, gateInput: points }); // [N, 4]
    const out = tf.tidy(() => {
      const [sigma, rgb] = tf.split(output, [1, 3], 1); // [N, 1], [N, 3]
      return { sigma: tf.squeeze(sigma!, [1]) as tf.Tensor1D, rgb: rgb as tf.Tensor2D };
    });
    output.dispose();
    return { ...out, auxLosses, metrics };
  }

  /** Renders rays: stratified samples (NeRF Eq. 2), the MoE field at every sample, alpha compositing (Eq. 3). */
  render(rays: Rays, options: NeRFRenderOptions): NeRFRenderOutput {
    checkFiniteNumber('MoENeRF.render', 'near', options.near);
    const R = rays.origins.shape[0];
    const S = options.numSamples;
    let metrics: RoutingMetrics | undefined;
    const out = tf.tidy(() => {
      const tVals = stratifiedSamples(R, { near: options.near, far: options.far, numSamples: S, perturb: options.perturb ?? options.training, seed: options.seed }); // [R, S]
      const points = rayPoints(rays.origins, rays.directions, tVals); // [R·S, 3]
      const field = this.field(points, { training: options.training });
      metrics = field.metrics;
      const rendered = volumeRender(tf.reshape(field.sigma, [R, S]) as tf.Tensor2D, tf.reshape(field.rgb, [R, S, 3]) as tf.Tensor3D, tVals, { background: options.background });
      return { rgb: rendered.rgb, opacity: rendered.opacity, auxLosses: field.auxLosses };
    });
    return { ...out, metrics: metrics! };
  }

  /** Releases the gate's and the experts' variables. */
  dispose(): void {
    this.moe.dispose();
  }
}
