import goldenJson from '../../../scripts/golden/load_balancing_conventions.json' with { type: 'json' }; // a module import, so the suite also runs in the browser
import * as tf from '@tensorflow/tfjs';
import { componentConfig } from '@moekit/core';
import { expectNoLeakedTensors } from '@moekit/core/testing';
import { describe, expect, it } from 'vitest';
import './register.js';
import { SwitchRouter } from './switch-router.js';

/** Golden values computed by scripts/golden/load_balancing_conventions.py from HF switch_transformers' code (commit in its header). */
interface GoldenCase {
  numTokens: number;
  numExperts: number;
  logits: number[][];
  losses: { switchHf: Record<string, { switchFirstChoice: number }> };
}
const golden = goldenJson as unknown as { cases: GoldenCase[] };

describe('SwitchRouter loadBalancingGroups against HF switch_transformers load_balancing_loss_func (golden JSON)', () => {
  for (const c of golden.cases) {
    it(`T=${c.numTokens}, E=${c.numExperts}: the mean over 1, 2 and 4 token groups within 1e-6`, async () => {
      await expectNoLeakedTensors(() => {
        for (const [groups, hf] of Object.entries(c.losses.switchHf)) {
          // identity kernel: the router's logits are the golden ones (no jitter in evaluation)
          const router = new SwitchRouter({ numExperts: c.numExperts, inputDim: c.numExperts, loadBalancingGroups: Number(groups) });
          tf.tidy(() => router.trainableVariables[0]!.assign(tf.eye(c.numExperts)));
          const value = tf.tidy(() => {
            const out = router.route(tf.tensor2d(c.logits), { training: false });
            return out.auxLosses['loadBalancing']!.dataSync()[0]!;
          });
          expect(Math.abs(value - hf.switchFirstChoice) / hf.switchFirstChoice).toBeLessThanOrEqual(1e-6);
          router.dispose();
        }
      });
    });
  }

  it('saves the convention and groups in its config; defaults are Switch over one group', () => {
    const router = new SwitchRouter({ numExperts: 4, loadBalancingGroups: 4, loadBalancingConvention: 'deepspeed' });
    expect(componentConfig(router, 'test', 'router').config).toMatchObject({ loadBalancingGroups: 4, loadBalancingConvention: 'deepspeed' });
    expect(new SwitchRouter({ numExperts: 4 }).config).toMatchObject({ loadBalancingConvention: 'switch', loadBalancingGroups: 1 });
    router.dispose();
  });

  it('names numGroups when the token count is not divisible by the groups', () => {
    const router = new SwitchRouter({ numExperts: 2, inputDim: 2, loadBalancingGroups: 2 });
    const x = tf.tensor2d([[1, 0], [0, 1], [1, 1]]);
    expect(() => router.route(x, { training: false })).toThrow("loadBalancingLoss: argument 'numGroups' expected a divisor of the token count 3, got 2");
    tf.dispose(x);
    router.dispose();
  });
});
