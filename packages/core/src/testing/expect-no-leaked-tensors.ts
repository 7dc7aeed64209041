import * as tf from '@tensorflow/tfjs-core';

/**
 * Runs `fn` once to prime caches (kernels, lazily built constants), then again, and throws unless the
 * second run left `tf.memory().numTensors` unchanged. Returns the second run's tensor count delta (0).
 * `fn` must dispose of what it creates, including its results.
 *
 * @example
 * ```ts
 * import { expectNoLeakedTensors } from '@moekit/core/testing';
 *
 * await expectNoLeakedTensors(() => { const r = moe.apply(x, { training: true }); r.output.dispose(); r.auxLosses.total.dispose(); });
 * ```
 */
export async function expectNoLeakedTensors(fn: () => unknown | Promise<unknown>): Promise<void> {
  await fn();
  const before = tf.memory().numTensors;
  await fn();
  const after = tf.memory().numTensors;
  if (after !== before) {
    throw new Error(`expectNoLeakedTensors: ${after - before} tensor(s) leaked (${before} before, ${after} after)`);
  }
}
