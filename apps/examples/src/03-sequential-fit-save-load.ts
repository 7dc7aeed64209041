/**
 * 03 · `MoELayer` in a `tf.sequential` model: compile, `fit` (the router's aux loss trains through
 * `Layer.addLoss`), save with core's `fileSystem` IO handler, load, and check the predictions match.
 */
import * as tf from '@tensorflow/tfjs';
import { MoELayer } from '@moekit/layers';
import { fileSystem } from '@moekit/platform';
import { FeedForwardExperts } from '@moekit/experts-ffn';
import { SwitchRouter } from '@moekit/router-switch';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Runs the example; `quick` fits fewer epochs. */
export async function run(options: { quick: boolean }): Promise<void> {
  const model = tf.sequential({
    layers: [
      tf.layers.dense({ units: 16, inputShape: [6], activation: 'relu' }),
      new MoELayer({ router: new SwitchRouter({ numExperts: 4, seed: 1 }), experts: new FeedForwardExperts({ numExperts: 4, inputDim: 16, hiddenDim: 32, seed: 2 }), name: 'moe' }),
      tf.layers.dense({ units: 2 }),
    ],
  });
  model.compile({ optimizer: tf.train.adam(0.01), loss: 'meanSquaredError' });
  const x = tf.randomNormal([256, 6], 0, 1, 'float32', 3);
  const y = tf.tidy(() => tf.concat([tf.sin(tf.slice(x, [0, 0], [-1, 1])), tf.abs(tf.slice(x, [0, 1], [-1, 1]))], 1)); // [256, 2]
  const history = await model.fit(x, y, { epochs: options.quick ? 2 : 40, batchSize: 32, verbose: 0 });
  const losses = history.history['loss'] as number[];
  const moe = model.getLayer('moe') as MoELayer;
  console.log(`fit: loss ${losses[0]!.toFixed(4)} -> ${losses[losses.length - 1]!.toFixed(4)} over ${losses.length} epochs; last batch's load per expert [${moe.lastMetrics?.load.join(', ')}]`);
  const dir = mkdtempSync(join(tmpdir(), 'moekit-example-03-'));
  try {
    await model.save(fileSystem(dir));
    const restored = await tf.loadLayersModel(fileSystem(dir));
    const [before, after] = [model.predict(x) as tf.Tensor, restored.predict(x) as tf.Tensor];
    const maxDiff = tf.tidy(() => tf.max(tf.abs(tf.sub(before, after))).dataSync()[0]!);
    console.log(`saved to and loaded from ${dir}: largest prediction difference ${maxDiff} (the restored model is the same function)`);
    tf.dispose([before, after]);
    restored.dispose();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  tf.dispose([x, y]);
  model.optimizer.dispose(); // compile() was given the optimizer, so dispose() leaves it (and its slots) alive
  model.dispose();
}
