import * as tf from '@tensorflow/tfjs';
import { MixtureOfExperts } from '@moekit/core';
import { expectNoLeakedTensors } from '@moekit/core/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { PATCHES, PatchVMoE, patchify } from './patch-vmoe.js';

beforeAll(async () => { await tf.setBackend('cpu'); });

describe('patchify', () => {
  it('cuts a 28 × 28 image into 16 row-major patches of 7 × 7 pixels', () => {
    const image = tf.range(0, 784).reshape([1, 784]) as tf.Tensor2D; // pixel value = its index y·28 + x
    const patches = patchify(image);
    expect(patches.shape).toEqual([1, 16, 49]);
    const p = patches.arraySync()[0]!;
    // patch 0 = rows 0–6, columns 0–6: starts 0, 1, …, 6, then row 1 at 28
    expect(p[0]!.slice(0, 8)).toEqual([0, 1, 2, 3, 4, 5, 6, 28]);
    // patch 1 = columns 7–13 of rows 0–6; patch 4 = rows 7–13 (7·28 = 196); patch 15 ends at pixel 783
    expect(p[1]![0]).toBe(7);
    expect(p[4]![0]).toBe(196);
    expect(p[15]![48]).toBe(783);
    tf.dispose([image, patches]);
  });
});

describe('PatchVMoE', () => {
  it('routes 16 tokens per image and returns [N, 10] scores without leaking', async () => {
    const model = new PatchVMoE({ dim: 8, experts: 4, hiddenDim: 16, seed: 1 });
    const moe = new MixtureOfExperts({ router: model.router, experts: model.experts, capacity: { eval: 0 } });
    const images = tf.randomUniform([3, 784], 0, 1, 'float32', 2) as tf.Tensor2D;
    await expectNoLeakedTensors(() => {
      const shape = tf.tidy(() => model.predict(images, moe, false).logits.shape);
      expect(shape).toEqual([3, 10]);
      // 3 images × 16 patches × top-2 = 96 (token, expert) pairs, all kept dropless
      expect(moe.lastMetrics!.needed.reduce((a, b) => a + b, 0)).toBe(3 * PATCHES * 2);
      expect(moe.lastMetrics!.droppedCount).toBe(0);
    });
    images.dispose();
    model.dispose();
  });
});
