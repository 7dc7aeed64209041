import * as tf from '@tensorflow/tfjs-core';
import { MoEArgumentError } from '../util/errors.js';
import { loadHealth } from './load-health.js';
import type { RoutingMetrics } from './routing-metrics.js';

/** Routing health over a span of calls of one mode (training or evaluation), as plain numbers. */
export interface RoutingHealthSummary {
  /** Calls of {@link MixtureOfExperts.apply} summed. */
  calls: number;
  /** Tokens routed. */
  tokens: number;
  /** `[E]` kept (token, expert) pairs per expert. */
  load: number[];
  /** `[E]` each expert's share of the kept pairs (all 0 when nothing was kept). */
  shares: number[];
  /** Coefficient of variation of `load` over experts (population sd / mean): 0 is perfectly balanced, `sqrt(E − 1)` all on one expert. */
  loadCv: number;
  /** Experts that kept no pair. */
  deadExperts: number;
  /** Dropped pairs / pairs asked for. */
  droppedFraction: number;
  /** Fraction of tokens no expert processed. */
  tokensWithoutExpert: number;
}

/** Which calls a summary covers: training (`training: true`) or evaluation. */
export type RoutingHealthMode = 'train' | 'eval';

/**
 * Accumulates routing health on the device over many calls — per mode, so that a `fit` with
 * validation data sees its training and its validation routing apart — and reads it once when asked
 * ({@link RoutingHealth.take}): a training step pays one small add, no host read. Off until
 * `tracking` is set (by `@moekit/layers`' `routingHealthCallback`, or by hand).
 *
 * @example
 * ```ts
 * moe.health.tracking = true;
 * for (const batch of evalBatches) moe.apply(batch, { training: false }).output.dispose();
 * const { shares, loadCv, deadExperts, droppedFraction } = (await moe.health.take('eval'))!;
 * ```
 */
export class RoutingHealth {
  /** Whether calls are accumulated. Default false. */
  tracking = false;
  private readonly sums: Partial<Record<RoutingHealthMode, { packed: tf.Tensor1D; calls: number; tokens: number }>> = {};

  /** @param numExperts experts `E` of the MoE whose calls this tracks. */
  constructor(readonly numExperts: number) {}

  /** Adds one call's metrics (when tracking), on the device; the metrics stay unread. @internal */
  record(mode: RoutingHealthMode, metrics: RoutingMetrics, numTokens: number): void {
    if (!this.tracking) return;
    const E = this.numExperts;
    const previous = this.sums[mode];
    const packed = tf.tidy(() => {
      const m = metrics.packedTensor(); // [3E + 4]: load, needed, importance, dropped, entropy, experts per token, tokens without expert (fraction)
      const call = tf.concat([tf.slice(m, 0, 2 * E), tf.slice(m, 3 * E, 1), tf.mul(tf.slice(m, 3 * E + 3, 1), numTokens)]) as tf.Tensor1D; // [2E + 2]
      return previous === undefined ? call : (tf.add(previous.packed, call) as tf.Tensor1D);
    });
    tf.keep(packed);
    previous?.packed.dispose();
    this.sums[mode] = { packed, calls: (previous?.calls ?? 0) + 1, tokens: (previous?.tokens ?? 0) + numTokens };
  }

  /** The summary of `mode`'s calls since the last take (`undefined` if none), read without blocking; then starts afresh. */
  async take(mode: RoutingHealthMode): Promise<RoutingHealthSummary | undefined> {
    if (mode !== 'train' && mode !== 'eval') throw new MoEArgumentError('RoutingHealth.take', 'mode', "'train' | 'eval'", String(mode));
    const sum = this.sums[mode];
    if (sum === undefined) return undefined;
    delete this.sums[mode];
    const data = await sum.packed.data();
    sum.packed.dispose();
    return summarise(Array.from(data), this.numExperts, sum.calls, sum.tokens);
  }

  /** Forgets what was accumulated. */
  reset(): void {
    for (const mode of ['train', 'eval'] as const) {
      this.sums[mode]?.packed.dispose();
      delete this.sums[mode];
    }
  }

  /** Releases the accumulators and stops tracking. */
  dispose(): void {
    this.reset();
    this.tracking = false;
  }
}

/** The summary of accumulated `[load E, needed E, dropped, withoutExpert]` over `calls` calls of `tokens` tokens. */
function summarise(values: number[], numExperts: number, calls: number, tokens: number): RoutingHealthSummary {
  const E = numExperts;
  const load = values.slice(0, E).map(Math.round);
  const needed = values.slice(E, 2 * E).map(Math.round);
  const { shares, cv, dead } = loadHealth(load);
  const totalNeeded = needed.reduce((a, b) => a + b, 0);
  return {
    calls,
    tokens,
    load,
    shares,
    loadCv: cv,
    deadExperts: dead,
    droppedFraction: totalNeeded === 0 ? 0 : Math.round(values[2 * E]!) / totalNeeded,
    tokensWithoutExpert: tokens === 0 ? 0 : values[2 * E + 1]! / tokens,
  };
}
