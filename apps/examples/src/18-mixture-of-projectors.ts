/**
 * 18 · sparse mixture of projectors (Llama-SMoP, Cappellazzo et al. 2025): two synthetic modalities
 * ("audio" and "video" tokens, 8 features each, four clusters per modality) are projected to a 16-wide
 * language-model space by a `MixtureOfProjectors` of four FFN projectors behind a linear gate and
 * softmax top-2, in the paper's three configurations — joint experts and router (JEJR), joint experts
 * with a router per modality (JEDR), a router and a bank per modality (DEDR). Each modality's target is
 * its own linear map per cluster, so the projectors pay for specialising. Prints the training loss and
 * the evaluation load per expert of each router.
 */
import * as tf from '@tensorflow/tfjs';
import { GatedRouter, LinearGate } from '@moekit/core';
import { FeedForwardExperts, MixtureOfProjectors, type ProjectorVariant } from '@moekit/experts-ffn';
import { TopKChoice } from '@moekit/router-topk';

const D = 8; // encoder width (both modalities)
const DOUT = 16; // language-model width
const E = 4;

/** `[T, D]` tokens of one modality around 4 cluster centres and their `[T, DOUT]` targets (seeded). */
function modality(numTokens: number, seed: number): { x: tf.Tensor2D; y: tf.Tensor2D } {
  return tf.tidy(() => {
    const cluster = tf.tensor1d(Array.from({ length: numTokens }, (_, i) => i % 4), 'int32'); // [T]
    const centres = tf.randomNormal([4, D], 0, 2, 'float32', seed); // [4, D]
    const x = tf.add(tf.gather(centres, cluster), tf.randomNormal([numTokens, D], 0, 0.3, 'float32', seed + 1)) as tf.Tensor2D; // [T, D]
    const maps = tf.randomNormal([4, D, DOUT], 0, 0.5, 'float32', seed + 2); // [4, D, DOUT] one map per cluster
    const y = tf.squeeze(tf.matMul(tf.expandDims(x, 1), tf.gather(maps, cluster)), [1]) as tf.Tensor2D; // [T, DOUT]
    return { x, y };
  });
}

/** Runs the example; `quick` trains a few steps. */
export async function run(options: { quick: boolean }): Promise<void> {
  const steps = options.quick ? 5 : 150;
  const audio = modality(64, 10);
  const video = modality(64, 20);
  const lines = ['| variant | routers | banks | training loss | evaluation load per router |', '|---|---:|---:|---|---|'];
  for (const variant of ['JEJR', 'JEDR', 'DEDR'] as ProjectorVariant[]) {
    const smop = new MixtureOfProjectors({
      variant,
      numModalities: 2,
      router: (m) => new GatedRouter({ gate: new LinearGate({ numOutputs: E, inputDim: D, seed: 100 + m }), algorithm: new TopKChoice({ numExperts: E, k: 2 }) }),
      experts: (m) => new FeedForwardExperts({ numExperts: E, inputDim: D, hiddenDim: 32, outputDim: DOUT, seed: 200 + m }),
      capacity: { train: 0, eval: 0 }, // dropless: the comparison is about sharing, not drops
    });
    const optimizer = tf.train.adam(0.01);
    const losses: number[] = [];
    for (let step = 0; step < steps; step++) {
      const cost = optimizer.minimize(() => {
        const { outputs, auxLosses } = smop.apply([audio.x, video.x], { training: true });
        const task = tf.add(tf.losses.meanSquaredError(audio.y, outputs[0]!), tf.losses.meanSquaredError(video.y, outputs[1]!));
        return tf.add(task, auxLosses.total) as tf.Scalar;
      }, true, smop.trainableVariables);
      losses.push(cost!.dataSync()[0]!);
      cost!.dispose();
    }
    const evaluation = smop.apply([audio.x, video.x], { training: false });
    const loads = evaluation.metrics.map((m) => `[${m.load.join(', ')}]`).join(' ');
    tf.dispose([...evaluation.outputs, ...Object.values(evaluation.auxLosses)]);
    lines.push(`| ${variant} | ${smop.moes.length === 1 ? 1 : 2} | ${variant === 'DEDR' ? 2 : 1} | ${losses[0]!.toFixed(3)} -> ${losses[losses.length - 1]!.toFixed(3)} | ${loads} |`);
    optimizer.dispose();
    smop.dispose();
  }
  tf.dispose([audio.x, audio.y, video.x, video.y]);
  console.log(lines.join('\n'));
}
