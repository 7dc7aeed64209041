/**
 * Evaluation of a classifier or language model that may hold an MoE: mean cross-entropy and accuracy
 * over a split, and the MoE's routing health summed over every evaluation batch (not just the last).
 */
import * as tf from '@tensorflow/tfjs';
import type { MoELayer } from '@moekit/layers';

/** What {@link evaluateRouted} measured. */
export interface RoutedEvaluation {
  /** Mean cross-entropy (nats) over every target. */
  crossEntropy: number;
  /** Fraction of targets whose most probable class is right. */
  accuracy: number;
  /** `[E]` kept (token, expert) pairs per expert over the split (empty without an MoE). */
  load: number[];
  /** `[E]` pairs that asked for each expert. */
  needed: number[];
  /** Pairs dropped for lack of capacity. */
  droppedCount: number;
  /** `droppedCount / Σ needed` (0 without an MoE). */
  droppedFraction: number;
  /** Tokens no expert processed, over all tokens routed. */
  tokensWithoutExpert: number;
}

/**
 * Runs `model` in inference mode over `x` in batches of `batchSize`, scoring softmax outputs `[N, …, C]`
 * against class ids `y` `[N, …, 1]`; after each batch it reads `moe.lastMetrics` (released when the
 * MoE's next call starts) and sums them.
 */
export function evaluateRouted(model: tf.LayersModel, x: tf.Tensor, y: tf.Tensor, options: { batchSize: number; moe?: MoELayer }): RoutedEvaluation {
  const N = x.shape[0];
  let crossEntropy = 0;
  let correct = 0;
  let targets = 0;
  let load: number[] = [];
  let needed: number[] = [];
  let droppedCount = 0;
  let withoutExpert = 0;
  let routedTokens = 0;
  for (let start = 0; start < N; start += options.batchSize) {
    const size = Math.min(options.batchSize, N - start);
    const [sum, hits] = tf.tidy(() => {
      const xb = tf.slice(x, start, size); // [n, …]
      const yb = tf.slice(y, start, size); // [n, …, 1]
      const probs = model.predict(xb, { batchSize: size }) as tf.Tensor; // [n, …, C]
      const C = probs.shape[probs.shape.length - 1]!;
      const flat = tf.reshape(probs, [-1, C]); // [m, C]
      const ids = tf.cast(tf.reshape(yb, [-1]), 'int32'); // [m]
      const p = tf.sum(tf.mul(tf.oneHot(ids, C), flat), -1); // [m] probability of the target
      const losses = tf.neg(tf.log(tf.maximum(p, 1e-7))); // [m] as tfjs-layers' sparse cross-entropy clips
      const hit = tf.equal(tf.argMax(flat, -1), ids); // [m]
      return [tf.sum(losses), tf.sum(tf.cast(hit, 'float32'))];
    });
    crossEntropy += sum.dataSync()[0]!;
    correct += hits.dataSync()[0]!;
    tf.dispose([sum, hits]);
    targets += (y.size / N) * size;
    const m = options.moe?.lastMetrics;
    if (m !== undefined) {
      load = m.load.map((l, i) => l + (load[i] ?? 0));
      needed = m.needed.map((l, i) => l + (needed[i] ?? 0));
      droppedCount += m.droppedCount;
      const batchTokens = (y.size / N) * size; // tokens routed in this batch: one per target
      withoutExpert += m.tokensWithoutExpert * batchTokens;
      routedTokens += batchTokens;
    }
  }
  const totalNeeded = needed.reduce((a, b) => a + b, 0);
  return {
    crossEntropy: crossEntropy / targets,
    accuracy: correct / targets,
    load,
    needed,
    droppedCount,
    droppedFraction: totalNeeded === 0 ? 0 : droppedCount / totalNeeded,
    tokensWithoutExpert: routedTokens === 0 ? 0 : withoutExpert / routedTokens,
  };
}
