/**
 * 01 · hello MoE (functional API): a `MixtureOfExperts` of four FFN experts behind Shazeer's noisy
 * top-2 router, applied to a batch and trained a few steps on a regression where each input cluster has
 * its own linear map, so routing pays.
 */
import * as tf from '@tensorflow/tfjs';
import { MixtureOfExperts } from '@moekit/core';
import { FeedForwardExperts } from '@moekit/experts-ffn';
import { TopKRouter } from '@moekit/router-topk';

/** Runs the example; `quick` trains fewer steps. */
export async function run(options: { quick: boolean }): Promise<void> {
  const D = 8;
  const E = 4;
  const moe = new MixtureOfExperts({
    router: new TopKRouter({ numExperts: E, k: 2, inputDim: D, noise: 'shazeer', seed: 1 }), // Shazeer 2017 Eqs. 3-5
    experts: new FeedForwardExperts({ numExperts: E, inputDim: D, hiddenDim: 16, seed: 2 }),
    capacity: { train: 1.25 },
  });
  // 4 clusters, cluster c's inputs centred at 3·e_c and mapped by its own matrix M_c
  const { x, y } = tf.tidy(() => {
    const cluster = tf.tensor1d(Array.from({ length: 256 }, (_, i) => i % 4), 'int32');
    const centres = tf.mul(tf.oneHot(cluster, D), 3);
    const x = tf.add(centres, tf.randomNormal([256, D], 0, 0.5, 'float32', 3)) as tf.Tensor2D; // [T, D]
    const maps = tf.randomNormal([4, D, D], 0, 0.5, 'float32', 4); // [4, D, D]
    const y = tf.squeeze(tf.matMul(tf.expandDims(x, 1), tf.gather(maps, cluster)), [1]) as tf.Tensor2D; // [T, D]
    return { x, y };
  });
  const first = moe.apply(x, { training: false });
  console.log(`output ${JSON.stringify(first.output.shape)}, load per expert [${first.metrics.load.join(', ')}], dropped ${(100 * first.metrics.droppedFraction).toFixed(1)}%`);
  tf.dispose([first.output, ...Object.values(first.auxLosses)]);
  const optimizer = tf.train.adam(0.02);
  const steps = options.quick ? 10 : 200;
  const losses: number[] = [];
  for (let step = 0; step < steps; step++) {
    const cost = optimizer.minimize(() => {
      const { output, auxLosses } = moe.apply(x, { training: true });
      return tf.add(tf.losses.meanSquaredError(y, output), auxLosses.total) as tf.Scalar; // task loss + weighted balance losses
    }, true, moe.trainableVariables);
    losses.push(cost!.dataSync()[0]!);
    cost!.dispose();
  }
  console.log(`loss ${losses[0]!.toFixed(4)} -> ${losses[losses.length - 1]!.toFixed(4)} after ${steps} Adam steps; load per expert [${moe.lastMetrics!.load.join(', ')}]`);
  tf.dispose([x, y]);
  optimizer.dispose();
  moe.dispose();
}
