import goldenJson from '../../../scripts/golden/load_balancing_conventions.json' with { type: 'json' }; // a module import, so the suite also runs in the browser
import * as tf from '@tensorflow/tfjs';
import { componentConfig, fromComponentConfig, type LoadBalancingConventionName, type Router, type TokenChoiceOutput } from '@moekit/core';
import { expectNoLeakedTensors } from '@moekit/core/testing';
import { describe, expect, it } from 'vitest';
import './register.js';
import { TopKChoice } from './top-k-choice.js';
import { TopKRouter } from './top-k-router.js';

/** Golden values computed by scripts/golden/load_balancing_conventions.py from DeepSpeed's and HF's code (commits in its header). */
interface GoldenCase {
  numTokens: number;
  numExperts: number;
  k: number;
  logits: number[][];
  losses: { deepspeed: number; mixtral: number; switchHf: Record<string, { switchFirstChoice: number; switchAllChoices: number }> };
}
const golden = goldenJson as unknown as { cases: GoldenCase[] };

const relativeError = (actual: number, expected: number) => Math.abs(actual - expected) / Math.abs(expected);

function loadBalancing(out: TokenChoiceOutput): number {
  const value = out.auxLosses['loadBalancing']!.dataSync()[0]!;
  tf.dispose([out.logits, out.probs, out.expertIndex, ...Object.values(out.auxLosses)]);
  return value;
}

/** The `loadBalancing` of TopKChoice on the golden logits. */
function viaChoice(c: GoldenCase, convention: LoadBalancingConventionName, groups = 1): number {
  const algorithm = new TopKChoice({ numExperts: c.numExperts, k: c.k, loadBalancingConvention: convention, loadBalancingGroups: groups });
  const value = tf.tidy(() => loadBalancing(algorithm.route(tf.tensor2d(c.logits), { training: false })));
  algorithm.dispose();
  return value;
}

/** The `loadBalancing` of a noise-free TopKRouter whose kernel is the identity: its logits are the golden ones. */
function viaRouter(c: GoldenCase, convention: LoadBalancingConventionName, groups = 1): number {
  const router = new TopKRouter({ numExperts: c.numExperts, k: c.k, inputDim: c.numExperts, noise: 'none', loadBalancingConvention: convention, loadBalancingGroups: groups });
  tf.tidy(() => router.trainableVariables[0]!.assign(tf.eye(c.numExperts)));
  const value = tf.tidy(() => loadBalancing(router.route(tf.tensor2d(c.logits), { training: false })));
  router.dispose();
  return value;
}

describe('load-balancing conventions of TopKChoice and TopKRouter against the peers\' code (golden JSON)', () => {
  for (const c of golden.cases) {
    it(`T=${c.numTokens}, E=${c.numExperts}, K=${c.k}: DeepSpeed topkgating, HF Mixtral, HF Switch groups within 1e-6`, async () => {
      await expectNoLeakedTensors(() => {
        for (const via of [viaChoice, viaRouter]) {
          expect(relativeError(via(c, 'deepspeed'), c.losses.deepspeed)).toBeLessThanOrEqual(1e-6);
          expect(relativeError(via(c, 'mixtral'), c.losses.mixtral)).toBeLessThanOrEqual(1e-6);
          for (const [groups, hf] of Object.entries(c.losses.switchHf)) {
            expect(relativeError(via(c, 'switch', Number(groups)), hf.switchFirstChoice)).toBeLessThanOrEqual(1e-6);
          }
        }
      });
    });
  }

  it('saves the convention and groups in the config and restores them; the defaults are Switch over one group', () => {
    const choice = new TopKChoice({ numExperts: 4, k: 3, loadBalancingConvention: 'deepspeed', loadBalancingGroups: 2 });
    expect(choice.config).toMatchObject({ loadBalancingConvention: 'deepspeed', loadBalancingGroups: 2 });
    expect(new TopKChoice({ numExperts: 4 }).config).toMatchObject({ loadBalancingConvention: 'switch', loadBalancingGroups: 1 });
    const router = new TopKRouter({ numExperts: 4, loadBalancingConvention: 'mixtral' });
    const restored = fromComponentConfig<Router & TopKRouter>(componentConfig(router, 'test', 'router'), 'test', 'router');
    expect(restored.config).toMatchObject({ loadBalancingConvention: 'mixtral', loadBalancingGroups: 1 });
    expect(() => new TopKChoice({ numExperts: 4, loadBalancingConvention: 'gshard' as never })).toThrow("argument 'loadBalancingConvention' expected one of 'switch' | 'deepspeed' | 'mixtral', got 'gshard'");
    expect(() => new TopKRouter({ numExperts: 4, loadBalancingGroups: 0 })).toThrow("argument 'loadBalancingGroups'");
    [choice, router, restored].forEach((r) => r.dispose());
  });
});
