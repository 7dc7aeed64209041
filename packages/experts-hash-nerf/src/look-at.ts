import { MoEArgumentError } from '@moekit/core';
import type { Vec3 } from './vec3.js';

/**
 * A camera-to-world matrix `[3][4]` (rotation columns right, up, back; then the camera position) for a
 * camera at `eye` looking at `target`, in the NeRF / OpenGL convention: the camera looks along its −z.
 *
 * @example
 * ```ts
 * import { lookAt } from '@moekit/experts-hash-nerf';
 *
 * const camToWorld = lookAt([0.5, 0.5, 2], [0.5, 0.5, 0.5]); // looks down −z at the cube's centre
 * ```
 */
export function lookAt(eye: Vec3, target: Vec3, up: Vec3 = [0, 1, 0]): number[][] {
  const sub = (a: Vec3, b: Vec3): Vec3 => [a[0] - b[0], a[1] - b[1], a[2] - b[2]];
  const cross = (a: Vec3, b: Vec3): Vec3 => [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
  const normalise = (a: Vec3, name: string): Vec3 => {
    const n = Math.hypot(...a);
    if (!(n > 1e-12)) throw new MoEArgumentError('lookAt', name, 'a direction of non-zero length (eye ≠ target, up not parallel to the view)', `[${a.join(', ')}]`);
    return [a[0] / n, a[1] / n, a[2] / n];
  };
  const back = normalise(sub(eye, target), 'eye'); // camera +z points away from the target
  const right = normalise(cross(up, back), 'up');
  const trueUp = cross(back, right);
  return [0, 1, 2].map((i) => [right[i]!, trueUp[i]!, back[i]!, eye[i]!]);
}
