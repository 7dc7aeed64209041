// Runs in a scratch project where the packages were installed from their npm tarballs (scripts/check-packed-install.mjs).
// The README's example: real router and experts, neither given its input width (the layer takes it in build).
import * as tf from '@tensorflow/tfjs';
import { FeedForwardExperts } from '@moekit/experts-ffn';
import { MoELayer, routingHealthCallback } from '@moekit/layers';
import { TopKRouter } from '@moekit/router-topk';

await tf.setBackend('cpu');
const model = tf.sequential({ layers: [
  tf.layers.dense({ units: 32, inputShape: [16], activation: 'relu' }),
  new MoELayer({ router: new TopKRouter({ numExperts: 8, k: 2, seed: 1 }), experts: new FeedForwardExperts({ numExperts: 8, hiddenDim: 64, seed: 2 }), name: 'moe' }),
  tf.layers.dense({ units: 10, activation: 'softmax' }),
] });
model.compile({ optimizer: 'adam', loss: 'categoricalCrossentropy' });
const x = tf.randomNormal([64, 16]);
const y = tf.oneHot(tf.randomUniformInt([64], 0, 10), 10);
const history = await model.fit(x, y, { epochs: 1, verbose: 0, validationSplit: 0.25, callbacks: [routingHealthCallback({ print: false })] });
const names = model.getLayer('moe').weights.map((w) => w.originalName);
const restored = await tf.models.modelFromJSON({ modelTopology: model.toJSON(null, false) });
const expected = ['moe/router/kernel', 'moe/router/noiseKernel', 'moe/experts/w1', 'moe/experts/b1', 'moe/experts/w2', 'moe/experts/b2'];
if (!Number.isFinite(history.history.loss[0]) || !('val_moe_load_cv' in history.history) || JSON.stringify(names) !== JSON.stringify(expected) || restored.layers.length !== 3) {
  throw new Error(`layers packed install is broken: ${JSON.stringify({ names, logs: Object.keys(history.history) })}`);
}
console.log(`MoELayer took its width from the input, trained one epoch (loss ${history.history.loss[0].toFixed(3)}), weights ${names.join(', ')}; rebuilt from its JSON`);
