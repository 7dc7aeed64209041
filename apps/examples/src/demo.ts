/**
 * `npm run demo`: trains a Mixture of Experts beside a dense model of the same active compute on a toy
 * task (clustered inputs, one linear map per cluster) and prints loss and per-expert load each epoch.
 */
import '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { selectBackend } from '@moekit/core';
import { toyRegressionDefaults, trainToyRegression } from './toy-regression.js';

const backend = await selectBackend();

const o = toyRegressionDefaults;
console.log(`moekit demo: ${o.numExperts} FFN experts (hidden ${o.hidden}, Shazeer noisy top-${o.k}, capacity factor ${o.capacityFactor}) vs one dense FFN of the same active compute`);
console.log(`task: ${o.numClusters} input clusters in R^${o.inputDim}, each with its own linear map to R^${o.outputDim}`);
console.log(`backend: ${backend.backend} (${backend.reason})\n`);
console.log('epoch   MoE mse   dense mse   balance   dropped   load per expert');
const started = performance.now();
const result = trainToyRegression({}, (r) => {
  const cells = [
    String(r.epoch).padStart(5),
    r.moeLoss.toFixed(4).padStart(9),
    r.denseLoss.toFixed(4).padStart(11),
    r.balanceLoss.toFixed(3).padStart(9),
    `${(100 * r.droppedFraction).toFixed(1)}%`.padStart(9),
    `  [${r.load.join(', ')}]`,
  ];
  console.log(cells.join(' '));
});
const seconds = (performance.now() - started) / 1000;
console.log(`\nheld-out mse: MoE ${result.moeTestLoss.toFixed(4)}, dense ${result.denseTestLoss.toFixed(4)} ` +
  `(${(result.denseTestLoss / result.moeTestLoss).toFixed(1)}x lower with MoE), ${seconds.toFixed(1)} s`);
