// Evaluation never drops silently: a residual path for tokens no expert kept, a warning once per MoE
// when an evaluation call drops more than `dropWarning`, and routing health accumulated per mode.
import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { MixtureOfExperts } from './mixture-of-experts.js';
import { expectNoLeakedTensors, expectTensorsClose, FixedRouter, LinearExpertBank } from './testing/index.js';

const probs = [[0.6, 0.4], [0.7, 0.3], [0.2, 0.8], [0.9, 0.1]];
const expertIndex = [[0, 1], [0, 1], [1, 0], [0, 1]];
// expert 0 doubles, expert 1 swaps the two features
const experts = () => new LinearExpertBank({ numExperts: 2, inputDim: 2, weights: [[[2, 0], [0, 2]], [[0, 1], [1, 0]]] });
const x = () => tf.tensor2d([[1, 2], [3, 4], [5, 6], [7, 8]]);

function run(moe: MixtureOfExperts, training: boolean) {
  const input = x();
  const r = moe.apply(input, { training });
  const output = r.output.arraySync() as number[][];
  tf.dispose([input, r.output, ...Object.values(r.auxLosses)]);
  return { output, metrics: r.metrics };
}

afterEach(() => vi.restoreAllMocks());

/** Lets the drop check finish: synchronous on host backends, chained on `metrics.read()` on GPU ones (registered before this await). */
async function settled(metrics: { read(): Promise<unknown> }) {
  await metrics.read();
  await Promise.resolve();
}

describe("droppedTokens: 'residual'", () => {
  it('passes a token no expert kept through unchanged (hand-computed)', () => {
    // capacity ceil(0.5 · 4 · 2 / 2) = 2 per expert: t0 keeps both, t1 and t2 their first, t3 none
    // zero:     t3 → [0, 0];  residual: t3 → x3 = [7, 8]; the others as combined
    for (const [droppedTokens, t3] of [['zero', [0, 0]], ['residual', [7, 8]]] as const) {
      const moe = new MixtureOfExperts({ router: new FixedRouter({ probs, expertIndex }), experts: experts(), capacity: { train: 0.5 }, droppedTokens });
      const { output } = run(moe, true);
      expectTensorsClose(tf.tensor2d(output), [[2, 2.8], [4.2, 5.6], [4.8, 4], [...t3]]);
      moe.dispose();
    }
  });

  it('is rejected when the experts change the feature shape, and unknown values by name', () => {
    const moe = new MixtureOfExperts({
      router: new FixedRouter({ probs, expertIndex }),
      experts: new LinearExpertBank({ numExperts: 2, inputDim: 2, outputDim: 3, seed: 1 }),
      droppedTokens: 'residual',
    });
    expect(() => run(moe, true)).toThrow("MixtureOfExperts.apply: argument 'droppedTokens' expected 'zero' (the experts' output features [3] differ from the input's, so a dropped token cannot pass through), got 'residual'");
    moe.dispose();
    expect(() => new MixtureOfExperts({ router: new FixedRouter({ probs, expertIndex }), experts: experts(), droppedTokens: 'skip' as never })).toThrow(/droppedTokens/);
    expect(() => new MixtureOfExperts({ router: new FixedRouter({ probs, expertIndex }), experts: experts(), dropWarning: 2 })).toThrow("MixtureOfExperts: argument 'dropWarning' expected a fraction in [0, 1], got 2");
  });
});

describe('evaluation drop warning', () => {
  it('warns once per MoE when an evaluation call drops more than dropWarning, naming the MoE and the cure', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    const moe = new MixtureOfExperts({ router: new FixedRouter({ probs, expertIndex }), experts: experts(), capacity: { train: 0.5, eval: 0.5 }, name: 'moe_block_3' });
    await settled(run(moe, true).metrics); // training drops are expected (capacity factor): no warning
    expect(warn).not.toHaveBeenCalled();
    for (let i = 0; i < 3; i++) await settled(run(moe, false).metrics);
    expect(warn).toHaveBeenCalledTimes(1);
    // 4 of the 8 pairs dropped (t1, t2 second choices, t3 both)
    expect(warn.mock.calls[0]![0]).toMatch(/^moekit: moe_block_3 dropped 50\.0 % of its \(token, expert\) pairs in an evaluation call \(capacity 2 slots per expert, load 2 2, asked 4 4\); dropped tokens pass on zeros\. Evaluate dropless with capacity: \{ eval: 0 \}/);
    moe.dispose();
  });

  it('stays silent when evaluation is dropless or the threshold is 1', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    for (const args of [{ capacity: { eval: 0 } }, { capacity: { eval: 0.5 }, dropWarning: 1 }]) {
      const moe = new MixtureOfExperts({ router: new FixedRouter({ probs, expertIndex }), experts: experts(), ...args });
      const { metrics } = run(moe, false);
      await settled(metrics);
      expect(metrics.droppedCount).toBe(args.capacity.eval === 0 ? 0 : 4);
      moe.dispose();
    }
    expect(warn).not.toHaveBeenCalled();
  });
});

describe('RoutingHealth', () => {
  it('accumulates training and evaluation apart while tracking, reads once and leaks nothing', async () => {
    const moe = new MixtureOfExperts({ router: new FixedRouter({ probs, expertIndex }), experts: experts(), capacity: { train: 0.5, eval: 0 }, dropWarning: 1 });
    run(moe, true);
    expect(await moe.health.take('train')).toBeUndefined(); // not tracking by default
    moe.health.tracking = true;
    await expectNoLeakedTensors(async () => {
      run(moe, true);
      run(moe, true);
      run(moe, false);
      // two training calls at capacity 2: load [2, 2] each, needed [4, 4], 4 dropped, t3 without expert
      expect(await moe.health.take('train')).toEqual({
        calls: 2, tokens: 8, load: [4, 4], shares: [0.5, 0.5], loadCv: 0, deadExperts: 0, droppedFraction: 0.5, tokensWithoutExpert: 0.25,
      });
      // one dropless evaluation call: every pair kept, experts 0 and 1 take 4 each
      expect(await moe.health.take('eval')).toMatchObject({ calls: 1, tokens: 4, load: [4, 4], droppedFraction: 0, tokensWithoutExpert: 0 });
      expect(await moe.health.take('eval')).toBeUndefined(); // taken: starts afresh
      moe.lastMetrics?.dispose();
    });
    await expect(moe.health.take('test' as never)).rejects.toThrow("RoutingHealth.take: argument 'mode' expected 'train' | 'eval', got test");
    moe.dispose();
  });
});
