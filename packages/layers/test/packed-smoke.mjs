// Runs in a scratch project where the packages were installed from their npm tarballs (scripts/check-packed-install.mjs).
import * as tf from '@tensorflow/tfjs';
import { LinearExpertBank, LinearTopKRouter } from '@moekit/core/testing';
import { MoELayer, routingHealthCallback } from '@moekit/layers';

await tf.setBackend('cpu');
const model = tf.sequential({
  layers: [
    tf.layers.dense({ units: 8, inputShape: [4] }),
    new MoELayer({ router: new LinearTopKRouter({ inputDim: 8, numExperts: 4, k: 1 }), experts: new LinearExpertBank({ numExperts: 4, inputDim: 8 }) }),
    tf.layers.dense({ units: 1 }),
  ],
});
model.compile({ optimizer: 'sgd', loss: 'meanSquaredError' });
const history = await model.fit(tf.randomNormal([16, 4]), tf.randomNormal([16, 1]), { epochs: 1, verbose: 0, callbacks: [routingHealthCallback()] });
const config = model.getConfig();
const restored = await tf.models.modelFromJSON({ modelTopology: model.toJSON(null, false) });
if (!Number.isFinite(history.history.loss[0]) || !('moe_load_cv' in history.history) || restored.layers.length !== 3 || config.layers.length !== 3) {
  throw new Error('layers packed install is broken');
}
console.log(`MoELayer trained one epoch (loss ${history.history.loss[0].toFixed(3)}), health logged, model rebuilt from its JSON`);
