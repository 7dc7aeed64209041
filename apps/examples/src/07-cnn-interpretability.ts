/**
 * 07 · MoE-CNN interpretability (Pavlitska et al. 2022): the MNIST MoE-CNN (noisy top-2) trained with the
 * soft and the hard utilisation constraint, its routing health at evaluation, and which digit classes each
 * expert takes first (the expert × class matrix).
 */
import { constraintExperiment } from './models/constraint-experiment.js';

/** Runs the example; `quick` trains on a few hundred images. */
export async function run(options: { quick: boolean }): Promise<void> {
  const results = constraintExperiment({
    trainSize: options.quick ? 300 : 3000, testSize: options.quick ? 200 : 1000, epochs: options.quick ? 1 : 2, experts: 4, k: 2, seeds: [1], constraints: ['soft', 'hard'],
  });
  console.log('| constraint | test accuracy | eval load shares | eval load CV | dead experts | I(E; C) bits |\n|---|---:|---|---:|---:|---:|');
  for (const r of results) console.log(`| ${r.constraint} | ${r.accuracy.toFixed(4)} | ${r.shares.map((x) => x.toFixed(2)).join(' ')} | ${r.loadCv.toFixed(2)} | ${r.dead} | ${r.mutualInformation.toFixed(3)} |`);
  for (const r of results) {
    console.log(`\n${r.constraint} constraint, test images per first-choice expert (rows) and digit (columns 0-9):`);
    r.counts.forEach((row, e) => console.log(`  expert ${e}: ${row.map((n) => String(n).padStart(4)).join('')}`));
  }
}
