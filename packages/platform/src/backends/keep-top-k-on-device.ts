import * as tf from '@tensorflow/tfjs-core';

/** The webgl backend's flags that send `TopK` to the cpu (a host read) below a size or above a k. */
const HANDOFF_FLAGS: ReadonlyArray<[string, number]> = [
  ['TOPK_LAST_DIM_CPU_HANDOFF_SIZE_THRESHOLD', 0], // stock 100 000: every router's last dim is below it
  ['TOPK_K_CPU_HANDOFF_THRESHOLD', Number.MAX_SAFE_INTEGER], // stock 128: expert choice's top-C is above it
];

/**
 * Keeps `tf.topk` on the GPU. tfjs's webgl `TopK` kernel hands its input to the cpu — a synchronous
 * read of the whole tensor — when the last dimension is under 100 000 or `k` over 128, which is every
 * top-k routing decision (E experts per token; C tokens per expert for expert choice). This sets both
 * thresholds so the kernel's own GPU sort runs instead. A no-op where the flags are not registered
 * (the webgl backend not imported). {@link selectBackend} calls it when it picks webgl. Returns the
 * flags it set.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { keepTopKOnDevice } from '@moekit/platform';
 *
 * await tf.setBackend('webgl');
 * keepTopKOnDevice(); // routing decisions no longer read back to the host
 * ```
 */
export function keepTopKOnDevice(): string[] {
  const env = tf.env();
  const registered = (env as unknown as { flagRegistry: Record<string, unknown> }).flagRegistry ?? {};
  const set: string[] = [];
  for (const [flag, value] of HANDOFF_FLAGS) {
    if (!(flag in registered)) continue;
    env.set(flag, value);
    set.push(flag);
  }
  return set;
}
