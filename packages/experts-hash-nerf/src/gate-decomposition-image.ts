import * as tf from '@tensorflow/tfjs-core';
import { checkFiniteNumber, checkInteger, checkOneOf, MoEArgumentError } from '@moekit/core';
import { encodePng } from './encode-png.js';
import type { HashGate } from './hash-gate.js';
import type { Vec3 } from './vec3.js';

/** Options of {@link gateDecompositionImage}. */
export interface DecompositionImageOptions {
  /** The axis the slice is perpendicular to. Default `'z'` (the image spans x rightwards, y upwards). */
  axis?: 'x' | 'y' | 'z';
  /** The slice's coordinate on `axis`, in `[0, 1]`. Default 0.5. */
  at?: number;
  /** Image width and height in pixels. Default 64. */
  size?: number;
  /** One colour per expert (0..255 RGB). Default {@link EXPERT_PALETTE}, cycled. */
  palette?: readonly Vec3[];
}

/** A gate's decomposition of a slice of the unit cube: the owning expert of each pixel, as an image. */
export interface DecompositionImage {
  /** Width and height in pixels. */
  size: number;
  /** `[size · size]` the top-1 expert of each pixel, row-major from the top-left. */
  owners: Int32Array;
  /** `[size · size · 3]` the pixels coloured by owner. */
  rgb: Uint8Array;
  /** The image as a PNG file's bytes (write them with `writePng` from `@moekit/experts-hash-nerf/node`). */
  png: Uint8Array;
  /** Pixels owned by each expert. */
  counts: number[];
}

/** Ten distinguishable colours (Tableau 10), one per expert. */
export const EXPERT_PALETTE: readonly Vec3[] = [
  [78, 121, 167], [242, 142, 43], [225, 87, 89], [118, 183, 178], [89, 161, 79],
  [237, 201, 72], [176, 122, 161], [255, 157, 167], [156, 117, 95], [186, 176, 172],
];

/**
 * Which expert owns which region: samples a `size × size` grid on the plane `axis = at` through the unit
 * cube, asks the gate for each pixel's top-1 expert, and colours the pixel by expert. Browser-safe:
 * returns bytes; `@moekit/experts-hash-nerf/node` writes them to a file.
 *
 * @example
 * ```ts
 * import { gateDecompositionImage } from '@moekit/experts-hash-nerf';
 *
 * const { png, counts } = gateDecompositionImage(gate, { axis: 'z', at: 0.5, size: 64 });
 * ```
 */
export function gateDecompositionImage(gate: HashGate, options: DecompositionImageOptions = {}): DecompositionImage {
  const where = 'gateDecompositionImage';
  const axis = options.axis ?? 'z';
  const at = options.at ?? 0.5;
  const size = options.size ?? 64;
  const palette = options.palette ?? EXPERT_PALETTE;
  checkOneOf(where, 'axis', axis, ['x', 'y', 'z']);
  checkFiniteNumber(where, 'at', at);
  checkInteger(where, 'size', size, 1);
  if (palette.length === 0) throw new MoEArgumentError(where, 'palette', 'at least one colour', '[]');
  const fixed = { x: 0, y: 1, z: 2 }[axis];
  const [horizontal, vertical] = [0, 1, 2].filter((a) => a !== fixed) as [number, number];
  const coords = new Float32Array(size * size * 3);
  for (let j = 0; j < size; j++) {
    for (let i = 0; i < size; i++) {
      const p = (j * size + i) * 3;
      coords[p + fixed] = at;
      coords[p + horizontal] = (i + 0.5) / size; // left to right
      coords[p + vertical] = 1 - (j + 0.5) / size; // top row is the high end
    }
  }
  const points = tf.tensor2d(coords, [size * size, 3]);
  const owners = gate.owners(points);
  points.dispose();
  const rgb = new Uint8Array(size * size * 3);
  const counts = new Array<number>(gate.numExperts).fill(0);
  owners.forEach((e, i) => {
    counts[e]! += 1;
    rgb.set(palette[e % palette.length]!, i * 3);
  });
  return { size, owners, rgb, png: encodePng(size, size, rgb), counts };
}
