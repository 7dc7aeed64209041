import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { lookAt } from './look-at.js';
import { orbitCameras } from './orbit-cameras.js';
import { SyntheticScene } from './synthetic-scene.js';

describe('SyntheticScene', () => {
  it('has density σ0 · sigmoid(−sdf / edge) and the solid\'s colour', () => {
    const scene = new SyntheticScene({ primitives: [{ kind: 'sphere', centre: [0.5, 0.5, 0.5], size: 0.2, colour: [1, 0, 0] }], density: 40, edge: 0.01 });
    // centre: sdf −0.2 → 40 / (1 + e^−20) = 40.0000; on the surface: 20; 0.05 outside: 40 / (1 + e^5) = 40 / 149.413 = 0.267714
    const { sigma, rgb } = scene.evaluate([0.5, 0.5, 0.5, 0.7, 0.5, 0.5, 0.75, 0.5, 0.5]);
    expect(sigma[0]).toBeCloseTo(40, 4);
    expect(sigma[1]).toBeCloseTo(20, 4);
    expect(sigma[2]).toBeCloseTo(0.267714, 5);
    expect(Array.from(rgb.subarray(0, 3))).toEqual([1, 0, 0]);
  });

  it('renders a ray through a sphere in its colour and a ray past it black', () => {
    const scene = new SyntheticScene({ primitives: [{ kind: 'box', centre: [0.5, 0.5, 0.5], size: [0.1, 0.1, 0.1], colour: [0.2, 0.4, 0.6] }] });
    // 3 × 1 image, focal 1: the centre pixel looks straight at the box; the side ones 45° away miss it
    const image = scene.render({ width: 3, height: 1, focal: 1, camToWorld: lookAt([0.5, 0.5, 2], [0.5, 0.5, 0.5]) }, { near: 0.5, far: 2.5, numSamples: 256 });
    const pixels = image.arraySync()[0]!;
    pixels[1]!.forEach((c, i) => expect(c).toBeCloseTo([0.2, 0.4, 0.6][i]!, 3)); // 0.2 of density 40: opacity 1 − e^−8
    expect(pixels[0]).toEqual([0, 0, 0]);
    expect(orbitCameras({ numViews: 4, size: 8 }).map((c) => c.camToWorld.map((row) => row[3]!.toFixed(3)))[0]).toEqual(['0.500', (0.5 + 1.6 * Math.sin(Math.PI / 9)).toFixed(3), (0.5 + 1.6 * Math.cos(Math.PI / 9)).toFixed(3)]);
    image.dispose();
  });
});
