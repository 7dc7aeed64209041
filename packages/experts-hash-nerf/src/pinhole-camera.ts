import * as tf from '@tensorflow/tfjs-core';
import { checkFiniteNumber, checkInteger, MoEArgumentError } from '@moekit/core';

/** A pinhole camera: image size in pixels, focal length in pixels, and its pose. */
export interface PinholeCamera {
  /** Image width `W` in pixels. */
  width: number;
  /** Image height `H` in pixels. */
  height: number;
  /** Focal length in pixels (`W / 2 / tan(fovX / 2)`). */
  focal: number;
  /** Camera-to-world `[3][4]` matrix (see {@link lookAt}); the camera looks along its −z. */
  camToWorld: number[][];
}

/** `R` rays: origins and unit directions (so the distance along a ray is its `t`). */
export interface Rays {
  /** `[R, 3]` ray origins. */
  origins: tf.Tensor2D;
  /** `[R, 3]` unit ray directions. */
  directions: tf.Tensor2D;
}

/**
 * One ray per pixel through the pixel's centre, row-major from the top-left (`R = H · W`), as NeRF's
 * `get_rays` (Mildenhall et al. 2020, https://arxiv.org/abs/2003.08934): camera-space direction
 * `((i + ½ − W/2) / f, −(j + ½ − H/2) / f, −1)`, rotated to world space and normalised. Computed on the
 * host; the caller owns the returned tensors.
 *
 * @example
 * ```ts
 * import { generateRays, lookAt } from '@moekit/experts-hash-nerf';
 *
 * const { origins, directions } = generateRays({ width: 16, height: 16, focal: 20, camToWorld: lookAt([0.5, 0.5, 2], [0.5, 0.5, 0.5]) }); // [256, 3] each
 * ```
 */
export function generateRays(camera: PinholeCamera): Rays {
  const where = 'generateRays';
  checkInteger(where, 'camera.width', camera.width, 1);
  checkInteger(where, 'camera.height', camera.height, 1);
  checkFiniteNumber(where, 'camera.focal', camera.focal);
  const m = camera.camToWorld;
  if (!Array.isArray(m) || m.length !== 3 || m.some((row) => !Array.isArray(row) || row.length < 4)) {
    throw new MoEArgumentError(where, 'camera.camToWorld', 'a [3][4] camera-to-world matrix', JSON.stringify(m));
  }
  const { width: W, height: H, focal: f } = camera;
  const origins = new Float32Array(W * H * 3);
  const directions = new Float32Array(W * H * 3);
  for (let j = 0; j < H; j++) {
    for (let i = 0; i < W; i++) {
      const c = [(i + 0.5 - W / 2) / f, -(j + 0.5 - H / 2) / f, -1]; // camera-space direction
      const d = [0, 1, 2].map((r) => m[r]![0]! * c[0]! + m[r]![1]! * c[1]! + m[r]![2]! * c[2]!);
      const n = Math.hypot(d[0]!, d[1]!, d[2]!);
      const o = (j * W + i) * 3;
      for (let r = 0; r < 3; r++) {
        origins[o + r] = m[r]![3]!;
        directions[o + r] = d[r]! / n;
      }
    }
  }
  return { origins: tf.tensor2d(origins, [W * H, 3]), directions: tf.tensor2d(directions, [W * H, 3]) };
}
