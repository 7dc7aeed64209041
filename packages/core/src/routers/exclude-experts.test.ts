import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { excludeExperts, EXCLUDED_LOGIT } from './exclude-experts.js';
import { expectNoLeakedTensors, expectTensorsClose } from '../testing/index.js';

describe('excludeExperts', () => {
  it('sets the excluded columns to −∞ (−1e9), so softmax gives them exactly 0 and no gradient', () => {
    const logits = tf.tensor2d([[1, 2, 3], [0, 0, 0]]);
    const masked = excludeExperts(logits, [false, false, true]);
    expectTensorsClose(masked, [[1, 2, EXCLUDED_LOGIT], [0, 0, EXCLUDED_LOGIT]], { atol: 0 });
    // softmax over [1, 2]: e¹/(e¹+e²) = 0.26894, e²/(e¹+e²) = 0.73106; over [0, 0]: 0.5, 0.5
    const probs = tf.softmax(masked);
    expectTensorsClose(probs, [[0.26894, 0.73106, 0], [0.5, 0.5, 0]], { atol: 1e-5 });
    expect((probs.arraySync() as number[][])[0]![2]).toBe(0);
    const grad = tf.grad((x: tf.Tensor) => tf.sum(tf.mul(tf.softmax(excludeExperts(x as tf.Tensor2D, [false, false, true])), tf.tensor2d([[1, 2, 3], [1, 2, 3]]))))(logits);
    expect(Array.from(grad.dataSync()).every(Number.isFinite)).toBe(true);
    const g = grad.arraySync() as number[][];
    expect([g[0]![2], g[1]![2]]).toEqual([0, 0]);
    tf.dispose([logits, masked, probs, grad]);
  });

  it('returns the scores themselves when nothing is excluded, and names bad flags', async () => {
    const logits = tf.tensor2d([[1, 2]]);
    expect(excludeExperts(logits, undefined)).toBe(logits);
    expect(excludeExperts(logits, [false, false])).toBe(logits);
    expect(() => excludeExperts(logits, [true])).toThrow("excludeExperts: argument 'excludedExperts' expected 2 flags (one per expert), got 1");
    expect(() => excludeExperts(logits, [true, true])).toThrow("excludeExperts: argument 'excludedExperts' expected at least one expert left to choose, got all excluded");
    await expectNoLeakedTensors(() => tf.dispose(excludeExperts(logits, [true, false])));
    logits.dispose();
  });
});
