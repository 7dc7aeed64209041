/**
 * 16 · Spatial Mixture-of-Experts (Dryden & Hoefler 2022): a learned gate over the grid picks one 3 × 3
 * conv expert per location, trained with the routing-classification loss and expert error damping, on a
 * field whose four regions follow four different stencils; beside a conv of equal active compute. Writes
 * the true regions and the learned gate map side by side as a PNG.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spatialMoEExperiment, writeGateMapPng } from './models/spatial-moe-experiment.js';

/** Runs the example; `quick` trains a few steps on a small grid. */
export async function run(options: { quick: boolean }): Promise<void> {
  const o = options.quick ? { size: 8, steps: 5, batch: 4, numExperts: 4, seed: 1 } : { size: 24, steps: 1500, batch: 8, numExperts: 4, seed: 1 };
  const results = spatialMoEExperiment(o);
  console.log('| model | held-out MSE / target power | gate map agreement with the regions | params | MACs per location |');
  console.log('|---|---:|---:|---:|---:|');
  for (const r of results) console.log(`| ${r.name} | ${r.relativeMse.toFixed(4)} | ${r.agreement === undefined ? '—' : r.agreement.toFixed(3)} | ${r.parameters} | ${r.activeMacs} |`);
  const path = writeGateMapPng(join(dirname(fileURLToPath(import.meta.url)), '..', 'out', `16-spatial-moe-gate-map${options.quick ? '-quick' : ''}.png`), o.size, results[0]!.gateMap!);
  console.log(`gate map (true regions left, learned right): ${path}`);
}
