import * as tf from '@tensorflow/tfjs';
import { expectTensorsClose } from '@moekit/core/testing';
import { describe, expect, it } from 'vitest';
import { rayPoints } from './ray-points.js';
import { stratifiedSamples } from './stratified-samples.js';

describe('stratifiedSamples and rayPoints', () => {
  it('draws one sample per even bin (NeRF Eq. 2), bin centres without jitter', () => {
    const centres = stratifiedSamples(2, { near: 1, far: 2, numSamples: 4, perturb: false });
    expectTensorsClose(centres, [[1.125, 1.375, 1.625, 1.875], [1.125, 1.375, 1.625, 1.875]]); // 1 + (i + ½) / 4
    const jittered = stratifiedSamples(500, { near: 1, far: 2, numSamples: 4, seed: 3 }).arraySync();
    for (const row of jittered) row.forEach((t, i) => { expect(t).toBeGreaterThanOrEqual(1 + i / 4); expect(t).toBeLessThanOrEqual(1 + (i + 1) / 4); });
    const binMeans = [0, 1, 2, 3].map((i) => jittered.reduce((s, row) => s + row[i]!, 0) / 500);
    binMeans.forEach((m, i) => expect(m).toBeCloseTo(1.125 + i / 4, 1)); // U over a bin has the bin centre as mean
    expect(() => stratifiedSamples(2, { near: 2, far: 1, numSamples: 4 })).toThrow("stratifiedSamples: argument 'far' expected > near (2), got 1");
    centres.dispose();
  });

  it('places o + t·d ray-major', () => {
    const p = rayPoints(tf.tensor2d([[0, 0, 0], [1, 1, 1]]), tf.tensor2d([[1, 0, 0], [0, 0, -1]]), tf.tensor2d([[1, 2], [0.5, 3]]));
    expectTensorsClose(p, [[1, 0, 0], [2, 0, 0], [1, 1, 0.5], [1, 1, -2]]);
    p.dispose();
  });
});
