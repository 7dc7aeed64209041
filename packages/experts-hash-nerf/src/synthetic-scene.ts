import * as tf from '@tensorflow/tfjs-core';
import { checkFiniteNumber, checkInteger, MoEArgumentError } from '@moekit/core';
import { generateRays, type PinholeCamera } from './pinhole-camera.js';
import { rayPoints } from './ray-points.js';
import { stratifiedSamples } from './stratified-samples.js';
import type { Vec3 } from './vec3.js';
import { volumeRender } from './volume-render.js';

/** A coloured solid of a {@link SyntheticScene}. */
export interface ScenePrimitive {
  /** `'sphere'` (size = radius) or `'box'` (size = half extents). */
  kind: 'sphere' | 'box';
  /** Centre in the unit cube. */
  centre: Vec3;
  /** Radius of a sphere, or the half extents `[x, y, z]` of an axis-aligned box. */
  size: number | Vec3;
  /** RGB colour in `[0, 1]`. */
  colour: Vec3;
}

/** Configuration of a {@link SyntheticScene}. */
export interface SyntheticSceneArgs {
  /** The solids. Default {@link DEFAULT_SCENE}: a red sphere, a green box and a blue sphere. */
  primitives?: ScenePrimitive[];
  /** Density inside a solid. Default 40. */
  density?: number;
  /** Width of the soft edge (the sigmoid's scale on the signed distance). Default 0.01. */
  edge?: number;
}

/** Density and colour of `N` points, on the host (see {@link SyntheticScene.evaluate}). */
export interface SceneSamples {
  /** `[N]` densities. */
  sigma: Float32Array;
  /** `[N · 3]` colours, row-major. */
  rgb: Float32Array;
}

/** Options of {@link SyntheticScene.render}. */
export interface SceneRenderOptions {
  /** Start of every ray's interval. */
  near: number;
  /** End of every ray's interval. */
  far: number;
  /** Samples per ray (bin centres, no jitter). Default 128. */
  numSamples?: number;
}

/** The default scene: three primitives inside the unit cube. */
export const DEFAULT_SCENE: readonly ScenePrimitive[] = [
  { kind: 'sphere', centre: [0.35, 0.4, 0.5], size: 0.2, colour: [0.9, 0.15, 0.1] },
  { kind: 'box', centre: [0.68, 0.55, 0.45], size: [0.12, 0.2, 0.12], colour: [0.1, 0.8, 0.2] },
  { kind: 'sphere', centre: [0.55, 0.72, 0.72], size: 0.13, colour: [0.15, 0.3, 0.95] },
];

/**
 * An analytic radiance field, so nothing is downloaded: solids with density
 * `σ(x) = Σ_k σ0 · sigmoid(−sdf_k(x) / edge)` (soft-edged, so rendering it with finitely many samples
 * converges) and colour `c(x) = Σ_k σ_k(x) c_k / Σ_k σ_k(x)`. {@link SyntheticScene.render} draws
 * ground-truth views with the same volume renderer as the model.
 *
 * @example
 * ```ts
 * import { SyntheticScene } from '@moekit/experts-hash-nerf';
 *
 * const scene = new SyntheticScene();
 * const image = scene.render(camera, { near: 0.6, far: 2.6 }); // [H, W, 3]
 * ```
 */
export class SyntheticScene {
  /** The solids. */
  readonly primitives: readonly ScenePrimitive[];
  /** Density inside a solid. */
  readonly density: number;
  /** Soft-edge width. */
  readonly edge: number;

  /** Validates the arguments. */
  constructor(args: SyntheticSceneArgs = {}) {
    this.primitives = args.primitives ?? DEFAULT_SCENE;
    this.density = args.density ?? 40;
    this.edge = args.edge ?? 0.01;
    if (this.primitives.length === 0) throw new MoEArgumentError('SyntheticScene', 'primitives', 'at least one primitive', '[]');
    checkFiniteNumber('SyntheticScene', 'density', this.density);
    if (!(this.edge > 0)) throw new MoEArgumentError('SyntheticScene', 'edge', 'a number > 0', String(this.edge));
  }

  /** Signed distance from `p` to primitive `k` (negative inside). */
  private sdf(k: number, x: number, y: number, z: number): number {
    const { kind, centre, size } = this.primitives[k]!;
    const d = [x - centre[0], y - centre[1], z - centre[2]];
    if (kind === 'sphere') return Math.hypot(d[0]!, d[1]!, d[2]!) - (size as number);
    const half = size as Vec3;
    const q = d.map((v, a) => Math.abs(v) - half[a]!); // box SDF (Quílez): |max(q, 0)| + min(max_a q_a, 0)
    return Math.hypot(...q.map((v) => Math.max(v, 0))) + Math.min(Math.max(q[0]!, q[1]!, q[2]!), 0);
  }

  /** Density and colour at `N` points given as `[N · 3]` coordinates: `{ sigma [N], rgb [N · 3] }` on the host. */
  evaluate(points: ArrayLike<number>): SceneSamples {
    const n = Math.floor(points.length / 3);
    const sigma = new Float32Array(n);
    const rgb = new Float32Array(n * 3);
    for (let i = 0; i < n; i++) {
      let total = 0;
      const c = [0, 0, 0];
      for (let k = 0; k < this.primitives.length; k++) {
        const s = this.density / (1 + Math.exp(this.sdf(k, points[3 * i]!, points[3 * i + 1]!, points[3 * i + 2]!) / this.edge)); // σ0 · sigmoid(−sdf / edge)
        total += s;
        for (let a = 0; a < 3; a++) c[a]! += s * this.primitives[k]!.colour[a]!;
      }
      sigma[i] = total;
      for (let a = 0; a < 3; a++) rgb[3 * i + a] = total > 1e-12 ? c[a]! / total : 0;
    }
    return { sigma, rgb };
  }

  /** Renders a ground-truth view `[H, W, 3]` (bin-centre samples, NeRF's quadrature, black background). */
  render(camera: PinholeCamera, options: SceneRenderOptions): tf.Tensor3D {
    const S = options.numSamples ?? 128;
    checkInteger('SyntheticScene.render', 'numSamples', S, 1);
    return tf.tidy(() => {
      const rays = generateRays(camera);
      const R = rays.origins.shape[0];
      const tVals = stratifiedSamples(R, { near: options.near, far: options.far, numSamples: S, perturb: false }); // [R, S]
      const { sigma, rgb } = this.evaluate(rayPoints(rays.origins, rays.directions, tVals).dataSync());
      const out = volumeRender(tf.tensor2d(sigma, [R, S]), tf.tensor3d(rgb, [R, S, 3]), tVals);
      return tf.reshape(out.rgb, [camera.height, camera.width, 3]) as tf.Tensor3D;
    });
  }
}
