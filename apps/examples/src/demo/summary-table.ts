/** The demo's summary: one row per model, as a markdown table (the terminal) or an HTML table (the report). */
import { compareMeans, formatMeanSd, loadHealth } from '../stats/seed-statistics.js';
import type { DemoModelResult, DemoResult } from './run-demo.js';

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

/** The header and one row per model: accuracy (mean ± sd over seeds when more than one), sizes, test routing health, drops, time. */
export function summaryRows(result: DemoResult): string[][] {
  const seeds = result.seeds;
  const row = (name: string, m: DemoModelResult, accuracies: number[] | undefined) => {
    const health = m.testLoad ? loadHealth(m.testLoad) : undefined;
    return [
      name,
      accuracies ? formatMeanSd(accuracies) : m.accuracy.toFixed(4),
      String(m.parameters),
      String(Math.round(m.activeParameters)),
      health ? health.shares.map(pct).join(' ') : '— (no routing)',
      health ? `${health.cv.toFixed(2)} / ${health.dead}` : '—',
      health ? `${m.trainDropped} / ${m.testDropped}` : '—',
      `${m.seconds.toFixed(1)} s`,
    ];
  };
  return [
    ['model', seeds ? `test accuracy (mean ± sd, ${seeds.length} seeds)` : 'test accuracy (one seed)', 'parameters', 'active params / image', 'test load per expert', 'test load CV / dead experts', 'pairs dropped (train / test)', 'train time'],
    row('MoE-CNN', result.moe, seeds?.map((s) => s.moe)),
    row('dense CNN', result.dense, seeds?.map((s) => s.dense)),
  ];
}

/** The summary as a markdown table (readable as plain text). */
export function summaryTable(result: DemoResult): string {
  const [header, ...rows] = summaryRows(result);
  const align = header!.map((_, i) => (i === 0 || i === 4 ? '---' : '---:'));
  return [header!, align, ...rows].map((r) => `| ${r.join(' | ')} |`).join('\n');
}

const escapeHtml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** The summary as an HTML `<table>`. */
export function summaryTableHtml(result: DemoResult): string {
  const [header, ...rows] = summaryRows(result);
  const cells = (r: string[], tag: 'th' | 'td') => `<tr>${r.map((c) => `<${tag}>${escapeHtml(c)}</${tag}>`).join('')}</tr>`;
  return `<table>\n<thead>${cells(header!, 'th')}</thead>\n<tbody>\n${rows.map((r) => cells(r, 'td')).join('\n')}\n</tbody>\n</table>`;
}

/**
 * One sentence: how the MoE compares with the dense model of equal active compute on test accuracy —
 * over seeds by the two-standard-error rule when the demo ran several, else for the one seed, saying so.
 */
export function verdictLine(result: DemoResult): string {
  const seeds = result.seeds;
  if (seeds === undefined || seeds.length < 2) {
    const diff = result.moe.accuracy - result.dense.accuracy;
    return `One seed: the MoE-CNN scores ${(100 * Math.abs(diff)).toFixed(2)} points ${diff >= 0 ? 'above' : 'below'} the dense CNN of the same active compute on test accuracy (run --seeds 3 for mean ± sd and the two-standard-error rule).`;
  }
  const d = compareMeans(seeds.map((s) => s.moe), seeds.map((s) => s.dense));
  const points = (x: number) => (100 * x).toFixed(2);
  const where = d.significant
    ? d.diff > 0 ? `beats the dense CNN of the same active compute by ${points(d.diff)} points` : `trails the dense CNN of the same active compute by ${points(-d.diff)} points`
    : `matches the dense CNN of the same active compute (difference ${points(d.diff)} points, within two standard errors ±${points(2 * d.se)})`;
  return `Over ${seeds.length} seeds the MoE-CNN ${where}${d.significant ? ` (beyond two standard errors ±${points(2 * d.se)})` : ''} on test accuracy.`;
}
