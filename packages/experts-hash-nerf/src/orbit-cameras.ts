import { checkFiniteNumber, checkInteger } from '@moekit/core';
import { lookAt } from './look-at.js';
import type { PinholeCamera } from './pinhole-camera.js';
import type { Vec3 } from './vec3.js';

/** Options of {@link orbitCameras}. */
export interface OrbitCameraOptions {
  /** Number of views `V` (≥ 1), evenly spaced in azimuth. */
  numViews: number;
  /** Image width and height in pixels. */
  size: number;
  /** Distance from the target. Default 1.6. */
  radius?: number;
  /** Elevation above the target's horizontal plane, in degrees. Default 20. */
  elevationDegrees?: number;
  /** Horizontal field of view, in degrees. Default 50. */
  fovDegrees?: number;
  /** The point looked at. Default the unit cube's centre `[0.5, 0.5, 0.5]`. */
  target?: Vec3;
}

/**
 * `V` square pinhole cameras on a circle around `target`, all looking at it (the usual synthetic-NeRF
 * capture): view `v` at azimuth `2π·v / V`; focal length `size / 2 / tan(fov / 2)`.
 *
 * @example
 * ```ts
 * import { orbitCameras } from '@moekit/experts-hash-nerf';
 *
 * const cameras = orbitCameras({ numViews: 8, size: 16 }); // 8 cameras, 16×16 pixels
 * ```
 */
export function orbitCameras(options: OrbitCameraOptions): PinholeCamera[] {
  checkInteger('orbitCameras', 'numViews', options.numViews, 1);
  checkInteger('orbitCameras', 'size', options.size, 1);
  const radius = options.radius ?? 1.6;
  const elevation = ((options.elevationDegrees ?? 20) * Math.PI) / 180;
  const fov = ((options.fovDegrees ?? 50) * Math.PI) / 180;
  checkFiniteNumber('orbitCameras', 'radius', radius);
  const target = options.target ?? [0.5, 0.5, 0.5];
  const focal = options.size / 2 / Math.tan(fov / 2);
  return Array.from({ length: options.numViews }, (_, v) => {
    const azimuth = (2 * Math.PI * v) / options.numViews;
    const eye: Vec3 = [
      target[0] + radius * Math.cos(elevation) * Math.sin(azimuth),
      target[1] + radius * Math.sin(elevation),
      target[2] + radius * Math.cos(elevation) * Math.cos(azimuth),
    ];
    return { width: options.size, height: options.size, focal, camToWorld: lookAt(eye, target) };
  });
}
