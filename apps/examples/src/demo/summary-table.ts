/** The demo's summary: one row per model, as a markdown table (the terminal) or an HTML table (the report). */
import { compareMeans, formatMeanSd, loadHealth } from '../stats/seed-statistics.js';
import { lastEpochLoss, type DemoModelResult, type DemoResult } from './run-demo.js';

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
      !health ? '—' : seeds ? `${formatMeanSd(seeds.map((x) => x.moeLoadCv), 2)} / ${formatMeanSd(seeds.map((x) => x.moeDeadExperts), 1)}` : `${health.cv.toFixed(2)} / ${health.dead}`,
      health ? `${m.trainDropped} / ${m.testDropped}` : '—',
      `${m.seconds.toFixed(1)} s`,
    ];
  };
  return [
    ['model', seeds ? `test accuracy (mean ± sd, ${seeds.length} seeds)` : 'test accuracy (one seed)', 'parameters', 'active params / image', seeds ? 'test load per expert (first seed)' : 'test load per expert', seeds ? 'test load CV / dead experts (mean ± sd)' : 'test load CV / dead experts', 'pairs dropped (train / test)', 'train time'],
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

/** The summary transposed, one line per measurement and one column per model, aligned with spaces: it fits where the markdown table is too wide. */
export function summaryColumns(result: DemoResult): string {
  const [header, ...rows] = summaryRows(result);
  const lines = header!.map((name, i) => [name, ...rows.map((r) => r[i]!)]);
  lines[0]![0] = '';
  const widths = lines[0]!.map((_, c) => Math.max(...lines.map((l) => l[c]!.length)));
  return lines.map((l) => l.map((cell, c) => (c === l.length - 1 ? cell : cell.padEnd(widths[c]! + 2))).join('').trimEnd()).join('\n');
}

/** The summary for a terminal of `columns`: the markdown table when it fits in `columns − 1`, else {@link summaryColumns}. */
export function summaryForTerminal(result: DemoResult, columns: number): string {
  const table = summaryTable(result);
  return table.split('\n').every((l) => l.length <= columns - 1) ? table : summaryColumns(result);
}

const escapeHtml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** The summary as an HTML `<table>`: a caption, column headers, and each model's name as its row's header. */
export function summaryTableHtml(result: DemoResult): string {
  const [header, ...rows] = summaryRows(result);
  const head = `<tr>${header!.map((c) => `<th scope="col">${escapeHtml(c)}</th>`).join('')}</tr>`;
  const row = ([name, ...r]: string[]) => `<tr><th scope="row">${escapeHtml(name!)}</th>${r.map((c) => `<td>${escapeHtml(c)}</td>`).join('')}</tr>`;
  return `<table class="summary">\n<caption>Test accuracy, size, routing health and time of each model</caption>\n<thead>${head}</thead>\n<tbody>\n${rows.map(row).join('\n')}\n</tbody>\n</table>`;
}

/**
 * How the MoE compares with the dense model of equal active compute on test accuracy — over seeds by
 * the two-standard-error rule when the demo ran several, else for the one seed, saying so — and, when
 * the MoE trails, what the same runs measured of why: whether it also fits its training images worse
 * (last-epoch training loss), i.e. its extra capacity is not used yet, or fits them better and
 * generalises worse.
 */
export function verdictLine(result: DemoResult): string {
  const seeds = result.seeds;
  const points = (x: number) => (100 * x).toFixed(2);
  let sentence: string;
  let trails: boolean;
  let moeLoss: number;
  let denseLoss: number;
  if (seeds === undefined || seeds.length < 2) {
    const diff = result.moe.accuracy - result.dense.accuracy;
    trails = diff < 0;
    moeLoss = lastEpochLoss(result.moe.history);
    denseLoss = lastEpochLoss(result.dense.history);
    sentence = `One seed: the MoE-CNN scores ${points(Math.abs(diff))} points ${diff >= 0 ? 'above' : 'below'} the dense CNN of the same active compute on test accuracy (run --seeds 3 for mean ± sd and the two-standard-error rule).`;
  } else {
    const d = compareMeans(seeds.map((s) => s.moe), seeds.map((s) => s.dense));
    trails = d.significant && d.diff < 0;
    moeLoss = seeds.reduce((a, s) => a + s.moeTrainLoss, 0) / seeds.length;
    denseLoss = seeds.reduce((a, s) => a + s.denseTrainLoss, 0) / seeds.length;
    const where = d.significant
      ? `${d.diff > 0 ? 'beats' : 'trails'} the dense CNN of the same active compute by ${points(Math.abs(d.diff))} points (beyond two standard errors ±${points(2 * d.se)})`
      : `matches the dense CNN of the same active compute (difference ${points(d.diff)} points, within two standard errors ±${points(2 * d.se)})`;
    sentence = `Over ${seeds.length} seeds the MoE-CNN ${where} on test accuracy.`;
  }
  if (!trails || result.dense.history.length === 0) return sentence;
  const losses = `last-epoch training loss ${moeLoss.toFixed(3)} against ${denseLoss.toFixed(3)}`;
  return `${sentence} ${moeLoss > denseLoss
    ? `It also fits its training images worse (${losses}): each expert trains on about 1/${result.options.experts} of the images, so at this size the extra capacity is not used yet.`
    : `It fits its training images at least as well (${losses}) but generalises worse.`}`;
}
