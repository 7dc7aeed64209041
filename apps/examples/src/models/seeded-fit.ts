import * as tf from '@tensorflow/tfjs';

/** Options of {@link fitWithSeededShuffle}. */
export interface SeededFitOptions {
  /** Passes over the data. */
  epochs: number;
  /** Rows per step. */
  batchSize: number;
  /** Seed of the per-epoch row order. */
  seed: number;
}

/**
 * `model.fit` with a reproducible row order: tfjs's `shuffle: true` draws from `Math.random`, so two runs
 * with the same seeds train on different batch orders and give different results. Here each epoch's
 * order is a Fisher–Yates permutation from a seeded linear congruential generator, so a run is
 * repeatable from its seed.
 */
export async function fitWithSeededShuffle(model: tf.LayersModel, x: tf.Tensor, y: tf.Tensor, options: SeededFitOptions): Promise<void> {
  let state = (options.seed * 2654435761) >>> 0 || 1;
  const next = () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0; // Numerical Recipes LCG
    return state / 2 ** 32;
  };
  const rows = x.shape[0]!;
  for (let epoch = 0; epoch < options.epochs; epoch++) {
    const order = Array.from({ length: rows }, (_, i) => i);
    for (let i = rows - 1; i > 0; i--) {
      const j = Math.floor(next() * (i + 1));
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    const index = tf.tensor1d(order, 'int32');
    const [xs, ys] = [tf.gather(x, index), tf.gather(y, index)];
    await model.fit(xs, ys, { epochs: 1, batchSize: options.batchSize, verbose: 0, shuffle: false });
    tf.dispose([index, xs, ys]);
  }
}
