/** The demo's self-contained HTML report: inline SVG plots only, no script, no external URL. */
import { expertClassMatrixSvg, type ExpertClassMatrix } from '@moekit/experts-conv';
import { lineChartSvg, windowMeans, type ChartSeries } from './line-chart-svg.js';
import { demoConstraint, routerLabel } from './demo-options.js';
import type { TrainStep } from '../models/train-mnist-classifier.js';
import { demoAnomalies, DROP_ANOMALY } from './demo-anomalies.js';
import type { DemoResult, EpochTest } from './run-demo.js';
import { summaryTableHtml, verdictLine } from './summary-table.js';

const escapeHtml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Colours of experts 0, 1, … in the load chart. */
export const EXPERT_COLORS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];

/** Steps per epoch of a run (1 when it recorded none). */
const stepsPerEpoch = (result: DemoResult) => result.moe.history[0]?.batchesPerEpoch ?? 1;

/** `[step, y]` points with x in epochs (step `s` of `n` per epoch at `s / n`), so training and test share an axis. */
const inEpochs = (points: [number, number][], perEpoch: number) => points.map(([x, y]) => [x / perEpoch, y] as [number, number]);

/** The fraction of images each expert took, averaged over windows of `window` steps, x in epochs: one series per expert. */
export function expertLoadSeries(loads: number[][], window: number, perEpoch = 1): ChartSeries[] {
  const E = loads[0]?.length ?? 0;
  return Array.from({ length: E }, (_, e) => ({
    label: `expert ${e}`,
    color: EXPERT_COLORS[e % EXPERT_COLORS.length]!,
    points: inEpochs(windowMeans(loads.map((l) => l[e]! / Math.max(1, l.reduce((a, b) => a + b, 0))), window), perEpoch),
  }));
}

/** Each expert's share of the test images after each epoch (x: the epoch, 1-based): one series per expert. */
export function testLoadSeries(epochs: EpochTest[]): ChartSeries[] {
  const E = epochs[0]?.load?.length ?? 0;
  return Array.from({ length: E }, (_, e) => ({
    label: `expert ${e}`,
    color: EXPERT_COLORS[e % EXPERT_COLORS.length]!,
    markers: true,
    points: epochs.map((t) => [t.epoch + 1, t.load![e]! / Math.max(1, t.load!.reduce((a, b) => a + b, 0))] as [number, number]),
  }));
}

const MOE_COLOR = '#d62728';
const DENSE_COLOR = '#1f77b4';

/** A metric of both models, training (window means, solid) beside test (after each epoch, dashed with dots), x in epochs. */
function trainAndTestSeries(result: DemoResult, window: number, train: (s: TrainStep) => number, test: (t: EpochTest) => number | undefined): ChartSeries[] {
  const perEpoch = stepsPerEpoch(result);
  const models = [['MoE-CNN', MOE_COLOR, result.moe], ['dense CNN', DENSE_COLOR, result.dense]] as const;
  return models.flatMap(([name, color, m]) => {
    const testPoints = m.epochs.flatMap((t) => { const y = test(t); return y === undefined ? [] : [[t.epoch + 1, y] as [number, number]]; });
    return [
      { label: `${name} training`, color, points: inEpochs(windowMeans(m.history.map(train), window), perEpoch) },
      ...(testPoints.length ? [{ label: `${name} test`, color, dash: '5 3', markers: true, points: testPoints }] : []),
    ];
  });
}

/** The anomalies as a list, one sentence each, or a sentence saying there was none. */
export function anomaliesHtml(anomalies: readonly string[]): string {
  if (anomalies.length === 0) return `<p class="no-anomaly">No anomaly: every expert took training and test images, and drops stayed at or below ${100 * DROP_ANOMALY} % of the pairs.</p>`;
  return `<ul class="anomalies">\n${anomalies.map((a) => `<li>${escapeHtml(a)}</li>`).join('\n')}\n</ul>`;
}

/** The whole report as one HTML string. */
export function demoReportHtml(result: DemoResult, matrix: ExpertClassMatrix): string {
  const steps = result.moe.history.length;
  const window = Math.max(1, Math.round(steps / 60));
  const meanOf = window === 1 ? 'each step' : `the mean of ${window} steps`;
  const xRange: [number, number] = [0, result.options.epochs]; // one epoch axis for the charts side by side
  const loss = lineChartSvg(trainAndTestSeries(result, window, (s) => s.loss, (t) => t.loss),
    { title: 'Loss (cross-entropy)', xLabel: 'epoch', yLabel: 'loss', width: 440, xRange });
  const accuracy = lineChartSvg(trainAndTestSeries(result, window, (s) => s.accuracy, (t) => t.accuracy),
    { title: 'Accuracy', xLabel: 'epoch', yLabel: 'accuracy', yRange: [0, 1], width: 440, xRange });
  const load = lineChartSvg(expertLoadSeries(result.moe.history.map((s) => s.load ?? []), window, stepsPerEpoch(result)),
    { title: "Training: each expert's share", xLabel: 'epoch', yLabel: 'fraction of images', yRange: [0, 1], width: 440, xRange });
  const testLoad = lineChartSvg(testLoadSeries(result.moe.epochs),
    { title: "Evaluation: each expert's share", xLabel: 'epoch', yLabel: 'fraction of test images', yRange: [0, 1], width: 440, xRange });
  const o = result.options;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>moekit demo report</title>
<style>body{font-family:sans-serif;max-width:960px;margin:2em auto;padding:0 1em;color:#222;line-height:1.4}table{border-collapse:collapse;font-size:0.9em}caption{text-align:left;font-weight:bold;margin-bottom:0.3em}th,td{border:1px solid #ccc;padding:0.3em 0.5em;text-align:right}th:first-child,td:first-child{text-align:left}tbody th{white-space:nowrap}thead th{background:#f3f3f3}figure{margin:1em 0}figcaption{font-size:0.85em;color:#555}svg{max-width:100%;height:auto}.pair{display:flex;flex-wrap:wrap;gap:1em}.pair figure{flex:1 1 420px;margin:0}.anomalies li{margin:0.4em 0}.no-anomaly{color:#2a7a2a}</style>
</head><body>
<h1>moekit demo: MoE-CNN vs dense CNN on MNIST</h1>
<p>${escapeHtml(`${o.experts} conv experts, ${routerLabel(o)}, capacity factor ${o.capacityFactor} (test ${o.evalCapacityFactor}), ${demoConstraint(o)} constraint; ${o.epochs} epochs over ${o.trainSize} training images, tested on ${o.testSize}; seed ${o.seed}.`)}</p>
<p>${escapeHtml(`Run ${result.date} on ${result.machine}, backend ${result.backend}.`)}</p>
<h2>Summary</h2>
${summaryTableHtml(result)}
<p class="verdict">${escapeHtml(verdictLine(result))}</p>
<h2 id="anomalies">Anomalies</h2>
${anomaliesHtml(demoAnomalies(result))}
<h2>Training beside test</h2>
<p>${escapeHtml(`Solid: training, ${meanOf}; dashed with dots: the test images after each epoch, routed as at evaluation (no noise).`)}</p>
<div class="pair"><figure id="loss-curves">${loss}</figure><figure id="accuracy-curves">${accuracy}</figure></div>
<h2>Expert load: training beside evaluation</h2>
<p>Training routes with the router's noise; evaluation without it, where a router balanced only by its noise collapses.</p>
<div class="pair"><figure id="training-load">${load}<figcaption>${escapeHtml(`The training images, ${meanOf}.`)}</figcaption></figure><figure id="evaluation-load">${testLoad}<figcaption>The test images after each epoch.</figcaption></figure></div>
<h2>Expert × class matrix (test images, first choice)</h2>
<p>${escapeHtml(`I(E; C) = ${matrix.mutualInformation.toFixed(3)} bits; load ${matrix.load.map((l) => l.toFixed(2)).join(' ')}.`)}</p>
<figure>${expertClassMatrixSvg(matrix, { title: 'expert × class (test images)' })}</figure>
</body></html>
`;
}
