// Runs in a scratch project where @moekit/core was installed from its npm tarball (scripts/check-packed-install.mjs).
import * as tf from '@tensorflow/tfjs';
import { MixtureOfExperts, computeCapacity } from '@moekit/core';
import { LinearExpertBank, LinearTopKRouter } from '@moekit/core/testing';

await tf.setBackend('cpu');
const moe = new MixtureOfExperts({
  router: new LinearTopKRouter({ inputDim: 8, numExperts: 4, k: 2 }),
  experts: new LinearExpertBank({ numExperts: 4, inputDim: 8 }),
});
const x = tf.randomNormal([32, 8]);
const { grads } = tf.variableGrads(() => {
  const { output, auxLosses } = moe.apply(x, { training: true });
  return tf.add(tf.mean(tf.square(output)), auxLosses.total);
});
const finite = Object.values(grads).every((g) => g.dataSync().every(Number.isFinite));
const capacity = computeCapacity({ numTokens: 32, numExperts: 4, k: 2, capacityFactor: 1.25 });
if (!finite || capacity !== 20) throw new Error(`unexpected: finite gradients ${finite}, capacity ${capacity}`);
console.log(`MoE trained one step, ${Object.keys(grads).length} gradients finite, capacity ${capacity}`);
// the architecture page the package READMEs link to (https://unpkg.com/@moekit/core/ARCHITECTURE.md) ships in the tarball
const { readFileSync } = await import('node:fs');
const architecture = readFileSync(new URL(import.meta.resolve('@moekit/core/package.json')).pathname.replace(/package\.json$/, 'ARCHITECTURE.md'), 'utf8');
if (!architecture.includes('## Components: one base for every plugin')) throw new Error('@moekit/core ships no current ARCHITECTURE.md');
console.log(`ARCHITECTURE.md shipped (${architecture.split('\n').length} lines)`);
