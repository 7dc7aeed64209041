/** The demo's summary table (markdown, readable as plain text). */
import type { DemoResult } from './run-demo.js';

/** One row per model: accuracy, parameters, active parameters per token (image), images dropped, time. */
export function summaryTable(result: DemoResult): string {
  const rows = [
    ['model', 'test accuracy', 'parameters', 'active params / image', 'images dropped (train / test)', 'train time'],
    ['---', '---:', '---:', '---:', '---:', '---:'],
    ...[['MoE-CNN', result.moe] as const, ['dense CNN', result.dense] as const].map(([name, m]) => [
      name,
      m.accuracy.toFixed(4),
      String(m.parameters),
      String(Math.round(m.activeParameters)),
      name === 'MoE-CNN' ? `${m.trainDropped} / ${m.testDropped}` : '0 / 0 (no routing)',
      `${m.seconds.toFixed(1)} s`,
    ]),
  ];
  return rows.map((r) => `| ${r.join(' | ')} |`).join('\n');
}
