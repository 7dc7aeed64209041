/** The demo's self-contained HTML report: inline SVG plots only, no script, no external URL. */
import { expertClassMatrixSvg, type ExpertClassMatrix } from '@moekit/experts-conv';
import { lineChartSvg, windowMeans, type ChartSeries } from './line-chart-svg.js';
import { demoConstraint, routerLabel } from './demo-options.js';
import type { DemoResult, EpochTest } from './run-demo.js';
import { summaryTableHtml, verdictLine } from './summary-table.js';

const escapeHtml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Colours of experts 0, 1, … in the load chart. */
export const EXPERT_COLORS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];

/** The fraction of images each expert took, averaged over windows of `window` steps: one series per expert. */
export function expertLoadSeries(loads: number[][], window: number): ChartSeries[] {
  const E = loads[0]?.length ?? 0;
  return Array.from({ length: E }, (_, e) => ({
    label: `expert ${e}`,
    color: EXPERT_COLORS[e % EXPERT_COLORS.length]!,
    points: windowMeans(loads.map((l) => l[e]! / Math.max(1, l.reduce((a, b) => a + b, 0))), window),
  }));
}

/** Each expert's share of the test images after each epoch (x: the epoch, 1-based): one series per expert. */
export function testLoadSeries(epochs: EpochTest[]): ChartSeries[] {
  const E = epochs[0]?.load?.length ?? 0;
  return Array.from({ length: E }, (_, e) => ({
    label: `expert ${e}`,
    color: EXPERT_COLORS[e % EXPERT_COLORS.length]!,
    points: epochs.map((t) => [t.epoch + 1, t.load![e]! / Math.max(1, t.load!.reduce((a, b) => a + b, 0))] as [number, number]),
  }));
}

/** The whole report as one HTML string. */
export function demoReportHtml(result: DemoResult, matrix: ExpertClassMatrix): string {
  const steps = result.moe.history.length;
  const window = Math.max(1, Math.round(steps / 60));
  const loss = lineChartSvg([
    { label: 'MoE-CNN', color: '#d62728', points: windowMeans(result.moe.history.map((s) => s.loss), window) },
    { label: 'dense CNN', color: '#1f77b4', points: windowMeans(result.dense.history.map((s) => s.loss), window) },
  ], { title: `Training loss (cross-entropy, mean of ${window} steps)`, xLabel: 'training step', yLabel: 'loss' });
  const accuracy = lineChartSvg([
    { label: 'MoE-CNN', color: '#d62728', points: windowMeans(result.moe.history.map((s) => s.accuracy), window) },
    { label: 'dense CNN', color: '#1f77b4', points: windowMeans(result.dense.history.map((s) => s.accuracy), window) },
  ], { title: `Training accuracy (mean of ${window} steps)`, xLabel: 'training step', yLabel: 'accuracy', yRange: [0, 1] });
  const testAccuracy = lineChartSvg([
    { label: 'MoE-CNN', color: '#d62728', points: result.moe.epochs.map((t) => [t.epoch + 1, t.accuracy]) },
    { label: 'dense CNN', color: '#1f77b4', points: result.dense.epochs.map((t) => [t.epoch + 1, t.accuracy]) },
  ], { title: 'Test accuracy after each epoch', xLabel: 'epoch', yLabel: 'accuracy' });
  const load = lineChartSvg(expertLoadSeries(result.moe.history.map((s) => s.load ?? []), window),
    { title: `Training: each expert's share of the routed images (mean of ${window} steps)`, xLabel: 'training step', yLabel: 'fraction', yRange: [0, 1] });
  const testLoad = lineChartSvg(testLoadSeries(result.moe.epochs),
    { title: "Evaluation: each expert's share of the test images after each epoch (no noise)", xLabel: 'epoch', yLabel: 'fraction', yRange: [0, 1] });
  const o = result.options;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>moekit demo report</title>
<style>body{font-family:sans-serif;max-width:900px;margin:2em auto;color:#222}table{border-collapse:collapse;font-size:0.9em}th,td{border:1px solid #ccc;padding:0.3em 0.5em;text-align:right}th:first-child,td:first-child{text-align:left}figure{margin:1.5em 0}.pair{display:flex;gap:1em}.pair figure{flex:1;margin:0}</style>
</head><body>
<h1>moekit demo: MoE-CNN vs dense CNN on MNIST</h1>
<p>${escapeHtml(`${o.experts} conv experts, ${routerLabel(o)}, capacity factor ${o.capacityFactor} (test ${o.evalCapacityFactor}), ${demoConstraint(o)} constraint; ${o.epochs} epochs over ${o.trainSize} training images, tested on ${o.testSize}; seed ${o.seed}.`)}</p>
<p>${escapeHtml(`Run ${result.date} on ${result.machine}, backend ${result.backend}.`)}</p>
<h2>Summary</h2>
${summaryTableHtml(result)}
<p>${escapeHtml(verdictLine(result))}</p>
<h2>Test accuracy</h2>
<figure>${testAccuracy}</figure>
<h2>Training curves</h2>
<figure>${loss}</figure>
<figure>${accuracy}</figure>
<h2>Expert load: training beside evaluation</h2>
<p>Training routes with the router's noise; evaluation without it, where an unbalanced router collapses.</p>
<div class="pair"><figure>${load}</figure><figure>${testLoad}</figure></div>
<h2>Expert × class matrix (test images, first choice)</h2>
<p>${escapeHtml(`I(E; C) = ${matrix.mutualInformation.toFixed(3)} bits; load ${matrix.load.map((l) => l.toFixed(2)).join(' ')}.`)}</p>
<figure>${expertClassMatrixSvg(matrix, { title: 'expert × class (test images)' })}</figure>
</body></html>
`;
}
