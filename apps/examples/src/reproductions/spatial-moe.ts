/**
 * Spatial Mixture-of-Experts (Dryden & Hoefler, NeurIPS 2022, arXiv:2211.13491): on data whose rule
 * depends on location, an SMoE (a learned gate over the grid, conv experts chosen per location, trained
 * with the routing-classification loss and expert error damping) beats a conv net of equal active compute
 * and learns the partition. Here a synthetic field with four regions and four stencils.
 */
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spatialMoEExperiment, writeGateMapPng, type SpatialModelResult } from '../models/spatial-moe-experiment.js';
import { runStamp } from '../run-stamp.js';
import { compareMeans, formatMeanSd, loadHealth, meanSd } from '../stats/seed-statistics.js';

function table(perSeed: SpatialModelResult[][]): string {
  const rows = perSeed[0]!.map((first, m) => {
    const runs = perSeed.map((results) => results[m]!);
    const gated = first.gateMap !== undefined;
    const health = gated ? runs.map((r) => loadHealth(r.load!)) : [];
    const shares = gated ? health[0]!.shares.map((_, e) => meanSd(health.map((h) => 100 * h.shares[e]!)).mean.toFixed(1)).join(' / ') : '— (no routing)';
    return `| ${first.name} | ${first.parameters} | ${first.activeMacs} | ${formatMeanSd(runs.map((r) => r.relativeMse))} | ${runs.map((r) => r.relativeMse.toFixed(4)).join(' / ')} | ${gated ? formatMeanSd(runs.map((r) => r.agreement!), 3) : '—'} | ${gated ? formatMeanSd(runs.map((r) => r.initialAgreement!), 3) : '—'} | ${shares} | ${gated ? `${formatMeanSd(health.map((h) => h.cv), 2)} / ${formatMeanSd(health.map((h) => h.dead), 1)} / 0 %` : '—'} | ${formatMeanSd(runs.map((r) => r.seconds), 1)} s |`;
  });
  return [
    '| model | parameters | MACs per location | held-out MSE / target power | per seed | gate map agreement with the regions | agreement at initialisation | locations per expert (%) | load CV / dead / dropped | train time |',
    '|---|---:|---:|---:|---:|---:|---:|---|---:|---:|',
    ...rows,
  ].join('\n');
}

/** Trains the models for each seed and returns the RESULTS.md section; writes the first seed's gate map as a PNG. */
export async function run(options: { quick: boolean }): Promise<string> {
  const o = options.quick
    ? { size: 8, steps: 5, batch: 4, numExperts: 4, seeds: [1, 2] }
    : { size: 24, steps: 1500, batch: 8, numExperts: 4, seeds: [1, 2, 3] };
  const started = performance.now();
  const perSeed = o.seeds.map((seed) => spatialMoEExperiment({ ...o, seed }));
  const minutes = (performance.now() - started) / 60000;
  writeGateMapPng(options.quick ? join(tmpdir(), `spatial-moe-gate-map-${process.pid}.png`) : join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'out', 'spatial-moe-gate-map.png'), o.size, perSeed[0]![0]!.gateMap!);
  const smoe = perSeed.map((r) => r[0]!.relativeMse);
  const conv = perSeed.map((r) => r[2]!.relativeMse);
  const agreement = perSeed.map((r) => r[0]!.agreement!);
  const initial = perSeed.map((r) => r[0]!.initialAgreement!);
  const d = compareMeans(conv, smoe);
  const a = compareMeans(agreement, initial);
  const beats = d.significant && d.diff > 0;
  const rc = compareMeans(perSeed.map((r) => r[1]!.relativeMse), smoe);
  const rcNote = rc.significant ? `${rc.diff > 0 ? 'the paper\'s training is better' : 'the task loss alone is better'} beyond two standard errors` : 'within two standard errors';
  const learned = meanSd(agreement).mean >= 0.9;
  const numbers = `held-out MSE / target power ${formatMeanSd(smoe)} for the SMoE against ${formatMeanSd(conv)} for the conv of equal active compute (difference ${d.diff.toFixed(4)}, two standard errors ${(2 * d.se).toFixed(4)}); gate map agreement with the true regions ${formatMeanSd(agreement, 3)} against ${formatMeanSd(initial, 3)} at initialisation (difference ${a.diff.toFixed(3)}, two standard errors ${(2 * a.se).toFixed(3)})`;
  const verdict = beats && learned
    ? `holds at this scale: ${numbers}.`
    : beats
      ? `does not fully hold at this scale: the SMoE beats the conv of equal active compute beyond two standard errors, but learns the partition only ${a.significant && a.diff > 0 ? 'in part (better than its initial gate, below the 0.9 agreement counted as learned)' : 'no better than its initial gate'}; ${numbers}.`
      : `does not hold at this scale: ${numbers}.`;
  return [
    '## Spatial MoE: routing by location vs a conv of equal active compute (synthetic field, four regions)',
    '',
    `Command: \`npm run reproduce -- spatial-moe${options.quick ? ' --quick' : ''}\`; seeds ${o.seeds.join(', ')} (initialisation, training fields and held-out fields; every model of a seed sees the same fields in the same order). Data: fields of i.i.d. N(0, 1) values on a ${o.size} × ${o.size} grid; the target at each location is one of four 3 × 3 stencils of unit output variance (identity, x-gradient, Laplacian, negated box blur) applied to the field, chosen by the location's region (a disc and a diagonal half-plane cut the grid into four). ${o.steps} Adam steps (2e-2) of ${o.batch} fresh fields, MSE; evaluated on 32 held-out fields. SMoE (\`@moekit/experts-conv\` \`SpatialGate\` + \`SpatialMoE\`): a learned [${o.size}, ${o.size}, ${o.numExperts}] gate (the reference's latent-tensor gate and its uniform ±√(3E/K) initialisation, with its training noise on: sd 1/E), ${o.numExperts} experts of one 3 × 3 filter each, top-1, output scaled by the gate weight; trained with the routing-classification loss (§2.2; correct = |error| within the per-field 0.7-quantile, the reference's default) and expert error damping (§2.3, factor 0, the reference's), or by the task loss alone. Baselines: one 3 × 3 conv filter (the SMoE's active compute), and a conv net with ${o.numExperts} 3 × 3 filters, ReLU and a 1 × 1 mix (the SMoE's total compute). Gate map: the expert each location ranks first; agreement: the best one-to-one relabelling's share of locations on the true region (\`partitionAgreement\`). Full run ${minutes.toFixed(1)} min on the machine below, shared with other jobs. The first seed's gate map: \`${options.quick ? 'a temporary file' : 'apps/examples/out/spatial-moe-gate-map.png'}\` (true regions left, learned right).`,
    '',
    'Mean ± sample sd over seeds; a difference counts when it exceeds two standard errors of the difference of the means (Welch). The partition counts as learned at a mean agreement of at least 0.9. Load columns: locations per expert on the gate map at evaluation (mean over seeds), its CV and dead experts; an SMoE has no capacity, so nothing is dropped.',
    '',
    table(perSeed),
    '',
    runStamp(),
    '',
    `Verdict: ${verdict} The RC loss and damping against the task loss alone: held-out MSE / target power ${formatMeanSd(perSeed.map((r) => r[0]!.relativeMse))} against ${formatMeanSd(perSeed.map((r) => r[1]!.relativeMse))}, agreement ${formatMeanSd(agreement, 3)} against ${formatMeanSd(perSeed.map((r) => r[1]!.agreement!), 3)} (${rcNote}). What differs from the paper: the paper's SMoEs sit inside deeper nets on heat-diffusion simulations, weather data and registered images, with its gates trained by the RC loss from the saved error signal (the gradient at the layer, times the expert output when weighted), the reference's default quantile 0.7; here one layer is the whole model, correctness comes from the output error. Without the gate noise (a reference option, off by its default) the RC-trained gate stayed where it started on seed 1 (agreement 0.29, as at initialisation); noise on was chosen from that one seed, and both SMoEs use it. A translation-equivariant conv net cannot tell the regions apart at all on i.i.d. input, so the baselines' gap is by construction; the partition score is the informative number.`,
  ].join('\n');
}
