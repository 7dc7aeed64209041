import * as tf from '@tensorflow/tfjs';
import { expectNoLeakedTensors } from '@moekit/core/testing';
import { describe, expect, it } from 'vitest';
import { mixtralLoadBalancingLoss } from './mixtral-load-balancing-loss.js';

describe('mixtralLoadBalancingLoss', () => {
  it('is E · Σ f·P over all layers and all k choices (HF load_balancing_loss_func, by hand)', async () => {
    const ln3 = Math.log(3);
    // layer 0: both tokens prefer expert 0 with p = [.75, .25]; layer 1: one token each way
    const layer0 = tf.tensor2d([[ln3, 0], [ln3, 0]]);
    const layer1 = tf.tensor2d([[ln3, 0], [0, ln3]]);
    await expectNoLeakedTensors(() => {
      // k = 1: P = mean([.75,.25],[.75,.25],[.75,.25],[.25,.75]) = [.625, .375]; f = [3/4, 1/4] → 2 · (.46875 + .09375) = 1.125
      const k1 = mixtralLoadBalancingLoss([layer0, layer1], 1);
      expect(k1.dataSync()[0]).toBeCloseTo(1.125, 5);
      // k = 2 = E: every expert is chosen once per token, f = [[3/4, 1/4], [1/4, 3/4]] → 2 · Σ f·P = 2 · (.625 + .375) = 2
      const k2 = mixtralLoadBalancingLoss([layer0, layer1], 2);
      expect(k2.dataSync()[0]).toBeCloseTo(2, 5);
      tf.dispose([k1, k2]);
    });
    expect(() => mixtralLoadBalancingLoss([], 2)).toThrow(/routerLogits.*at least one layer/s);
    expect(() => mixtralLoadBalancingLoss([layer0], 3)).toThrow(/k.*\[1, 2\].*3/s);
    tf.dispose([layer0, layer1]);
  });
});
