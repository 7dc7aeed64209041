// Runs in a scratch project where the packages were installed from their npm tarballs.
import * as tf from '@tensorflow/tfjs';
import { MixtureOfExperts } from '@moekit/core';
import { LinearExpertBank, LinearTopKRouter } from '@moekit/core/testing';
import { formatPruningReport, pruneExperts, pruningReport, routerChangeScores } from '@moekit/pruning';

await tf.setBackend('cpu');
const moe = new MixtureOfExperts({ router: new LinearTopKRouter({ inputDim: 8, numExperts: 4, k: 2 }), experts: new LinearExpertBank({ numExperts: 4, inputDim: 8 }) });
const pretrained = moe.router.selectExperts([0, 1, 2, 3]);
moe.router.kernel.assign(tf.mul(moe.router.kernel, tf.tensor1d([1, 3, 1, 2])));
const scores = routerChangeScores(pretrained, moe.router);
const { pruned, kept } = pruneExperts(moe, { keep: 2, criterion: 'routerChange', pretrainedRouter: pretrained });
const { output } = pruned.apply(tf.randomNormal([16, 8]), { training: false });
const rows = await pruningReport({ model: moe, ratios: [0.5], criteria: ['weightNorm'], evaluate: (p) => p.numExperts });
if (kept.join() !== '1,3' || pruned.numExperts !== 2 || output.shape.join() !== '16,8' || rows.length !== 1 || !formatPruningReport(rows).startsWith('| pruned')) {
  throw new Error('pruning packed install is broken');
}
console.log(`pruned 4 → 2 experts by router change (Δ = ${scores.map((s) => s.toFixed(2)).join(', ')}), kept ${kept.join(', ')}`);
