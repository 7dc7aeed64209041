/**
 * 17 · mixture of whole models (MoE-VRD, Shaabana et al., arXiv:2403.03994): three heterogeneous
 * `tf.sequential` MLPs as the experts of one `MoELayer`, gated per input by Shazeer's noisy top-2,
 * trained with `fit`, saved and reloaded as the same function.
 */
import * as tf from '@tensorflow/tfjs';
import { LayersModelExperts, MoELayer } from '@moekit/layers';
import { TopKRouter } from '@moekit/router-topk';

/** A seeded MLP [B, 8] → [B, 3]. */
function mlp(hidden: number[], activation: 'relu' | 'tanh', seed: number): tf.Sequential {
  const m = tf.sequential();
  hidden.forEach((units, i) => m.add(tf.layers.dense({ units, activation, kernelInitializer: tf.initializers.glorotUniform({ seed: seed + i }), ...(i === 0 ? { inputShape: [8] } : {}) })));
  m.add(tf.layers.dense({ units: 3, kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 9 }) }));
  return m;
}

/** Runs the example; `quick` trains fewer epochs. */
export async function run(options: { quick: boolean }): Promise<void> {
  const experts = new LayersModelExperts({ models: [mlp([16], 'relu', 1), mlp([8, 8], 'tanh', 2), mlp([12], 'relu', 3)] });
  const model = tf.sequential({ layers: [new MoELayer({ inputShape: [8], router: new TopKRouter({ numExperts: 3, k: 2, seed: 4 }), experts, capacity: { train: 0, eval: 0 }, name: 'ensemble' })] });
  model.compile({ optimizer: tf.train.adam(0.02), loss: tf.losses.softmaxCrossEntropy });
  const x = tf.randomNormal([128, 8], 0, 1, 'float32', 5); // [B, 8]
  const y = tf.tidy(() => tf.oneHot(tf.argMax(tf.slice(x, [0, 0], [-1, 3]), 1), 3).toFloat()); // [B, 3]: which of the first three features is largest
  const history = await model.fit(x, y, { epochs: options.quick ? 5 : 40, batchSize: 32, shuffle: false, verbose: 0 });
  const losses = history.history['loss'] as number[];
  console.log(`mixture of 3 models (${experts.parametersPerExpert.join(' / ')} parameters): loss ${losses[0]!.toFixed(4)} -> ${losses[losses.length - 1]!.toFixed(4)} after ${losses.length} epochs`);
  let saved: tf.io.ModelArtifacts | undefined;
  await model.save(tf.io.withSaveHandler(async (artifacts) => ((saved = artifacts), { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } })));
  const restored = await tf.loadLayersModel(tf.io.fromMemory(saved!));
  const difference = tf.tidy(() => tf.max(tf.abs(tf.sub(model.predict(x) as tf.Tensor, restored.predict(x) as tf.Tensor))).dataSync()[0]!);
  console.log(`reloaded: largest prediction difference ${difference} (the saved ensemble is the same function)`);
  tf.dispose([x, y]);
  model.optimizer.dispose();
  model.dispose();
  restored.dispose();
}
