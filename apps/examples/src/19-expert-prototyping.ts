/**
 * 19 · expert prototyping and HetuMoE's gates as routing algorithms: one `GatedRouter` (a linear gate)
 * with three algorithms over eight FFN experts, trained on a regression where each of eight input
 * clusters has its own linear map — softmax top-2 (`TopKChoice`), M6-T's k top-1 (`KTop1Choice`, two
 * prototypes of four, one expert from each) and HetuMoE's switch-and-mixture gate
 * (`SwitchAndMixtureChoice`, two groups of four, top-2 inside the token's group). Prints the training
 * loss and the evaluation load per expert.
 */
import * as tf from '@tensorflow/tfjs';
import { GatedRouter, LinearGate, MixtureOfExperts, type RoutingAlgorithm } from '@moekit/core';
import { FeedForwardExperts } from '@moekit/experts-ffn';
import { KTop1Choice, SwitchAndMixtureChoice, TopKChoice } from '@moekit/router-topk';

const D = 8;
const E = 8;

/** Runs the example; `quick` trains a few steps. */
export async function run(options: { quick: boolean }): Promise<void> {
  const steps = options.quick ? 5 : 200;
  // 8 clusters, cluster c's inputs around 3·e_c, mapped by its own matrix M_c (seeded)
  const { x, y } = tf.tidy(() => {
    const cluster = tf.tensor1d(Array.from({ length: 256 }, (_, i) => i % 8), 'int32'); // [T]
    const x = tf.add(tf.mul(tf.oneHot(cluster, D), 3), tf.randomNormal([256, D], 0, 0.5, 'float32', 3)) as tf.Tensor2D; // [T, D]
    const maps = tf.randomNormal([8, D, D], 0, 0.5, 'float32', 4); // [8, D, D]
    const y = tf.squeeze(tf.matMul(tf.expandDims(x, 1), tf.gather(maps, cluster)), [1]) as tf.Tensor2D; // [T, D]
    return { x, y };
  });
  const algorithms: [string, () => RoutingAlgorithm][] = [
    ['top-2 (TopKChoice)', () => new TopKChoice({ numExperts: E, k: 2 })],
    ['k top-1, 2 prototypes (KTop1Choice)', () => new KTop1Choice({ numExperts: E, k: 2 })],
    ['SAM, 2 groups, top-2 (SwitchAndMixtureChoice)', () => new SwitchAndMixtureChoice({ numExperts: E, numGroups: 2, k: 2 })],
  ];
  const lines = ['| algorithm | training loss | evaluation load per expert |', '|---|---|---|'];
  for (const [name, make] of algorithms) {
    const moe = new MixtureOfExperts({
      router: new GatedRouter({ gate: new LinearGate({ numOutputs: E, inputDim: D, seed: 1 }), algorithm: make() }),
      experts: new FeedForwardExperts({ numExperts: E, inputDim: D, hiddenDim: 16, seed: 2 }),
      capacity: { train: 0, eval: 0 }, // dropless: the algorithms differ in whom they pick, not in drops
    });
    const optimizer = tf.train.adam(0.02);
    const losses: number[] = [];
    for (let step = 0; step < steps; step++) {
      const cost = optimizer.minimize(() => {
        const { output, auxLosses } = moe.apply(x, { training: true });
        return tf.add(tf.losses.meanSquaredError(y, output), auxLosses.total) as tf.Scalar;
      }, true, moe.trainableVariables);
      losses.push(cost!.dataSync()[0]!);
      cost!.dispose();
    }
    const evaluation = moe.apply(x, { training: false });
    lines.push(`| ${name} | ${losses[0]!.toFixed(3)} -> ${losses[losses.length - 1]!.toFixed(3)} | [${evaluation.metrics.load.join(', ')}] |`);
    tf.dispose([evaluation.output, ...Object.values(evaluation.auxLosses)]);
    optimizer.dispose();
    moe.dispose();
  }
  tf.dispose([x, y]);
  console.log(lines.join('\n'));
}
