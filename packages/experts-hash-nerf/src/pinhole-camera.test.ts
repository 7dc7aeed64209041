import * as tf from '@tensorflow/tfjs';
import { expectNoLeakedTensors, expectTensorsClose } from '@moekit/core/testing';
import { describe, expect, it } from 'vitest';
import { lookAt } from './look-at.js';
import { generateRays } from './pinhole-camera.js';

describe('lookAt and generateRays', () => {
  it('builds the NeRF camera-to-world matrix and one unit ray per pixel centre', () => {
    const camToWorld = lookAt([0.5, 0.5, 2], [0.5, 0.5, 0.5]);
    expect(camToWorld).toEqual([[1, 0, 0, 0.5], [0, 1, 0, 0.5], [0, 0, 1, 2]]);
    const rays = generateRays({ width: 2, height: 2, focal: 1, camToWorld });
    // pixel (i, j) = (0, 0): (0.5 − 1, −(0.5 − 1), −1) = (−0.5, 0.5, −1) / √1.5
    const s = 1 / Math.sqrt(1.5);
    expectTensorsClose(rays.directions, [[-0.5 * s, 0.5 * s, -s], [0.5 * s, 0.5 * s, -s], [-0.5 * s, -0.5 * s, -s], [0.5 * s, -0.5 * s, -s]], { atol: 1e-6 });
    expectTensorsClose(rays.origins, [[0.5, 0.5, 2], [0.5, 0.5, 2], [0.5, 0.5, 2], [0.5, 0.5, 2]]);
    tf.dispose([rays.origins, rays.directions]);
  });

  it('rotates rays with the camera and names a degenerate pose', async () => {
    const rays = generateRays({ width: 1, height: 1, focal: 1, camToWorld: lookAt([2, 0.5, 0.5], [0.5, 0.5, 0.5]) });
    expectTensorsClose(rays.directions, [[-1, 0, 0]], { atol: 1e-6 }); // the centre ray looks at the target
    expect(() => lookAt([0, 0, 0], [0, 0, 0])).toThrow("lookAt: argument 'eye' expected a direction of non-zero length");
    expect(() => generateRays({ width: 0, height: 1, focal: 1, camToWorld: [] })).toThrow("generateRays: argument 'camera.width' expected an integer >= 1, got 0");
    await expectNoLeakedTensors(() => { const r = generateRays({ width: 3, height: 2, focal: 2, camToWorld: lookAt([0, 0, 1], [0, 0, 0]) }); tf.dispose([r.origins, r.directions]); });
    tf.dispose([rays.origins, rays.directions]);
  });
});
