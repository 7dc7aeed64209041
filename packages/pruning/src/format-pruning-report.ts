import type { PruningReportRow } from './pruning-report.js';

/**
 * A markdown table of a {@link pruningReport}: one row per ratio, one accuracy column per criterion,
 * and the parameter count of each ratio (the same for every criterion: the experts have equal sizes).
 * Accuracies are printed with `digits` decimals (default 3).
 *
 * @example
 * ```ts
 * import { formatPruningReport } from '@moekit/pruning';
 *
 * console.log(formatPruningReport(rows));
 * // | pruned | experts | parameters | routerChange | random | …
 * ```
 */
export function formatPruningReport(rows: readonly PruningReportRow[], digits = 3): string {
  const criteria = [...new Set(rows.map((r) => r.criterion))];
  const ratios = [...new Set(rows.map((r) => r.ratio))];
  const lines = [
    `| pruned | experts | parameters | ${criteria.join(' | ')} |`,
    `|---|---|---|${criteria.map(() => '---').join('|')}|`,
  ];
  for (const ratio of ratios) {
    const atRatio = rows.filter((r) => r.ratio === ratio);
    const first = atRatio[0]!;
    const parameterCounts = [...new Set(atRatio.map((r) => r.parameters))].join(' / ');
    const cells = criteria.map((c) => {
      const row = atRatio.find((r) => r.criterion === c);
      return row === undefined ? '—' : row.accuracy.toFixed(digits);
    });
    lines.push(`| ${Math.round(ratio * 100)}% | ${first.keptExperts} | ${parameterCounts} | ${cells.join(' | ')} |`);
  }
  return lines.join('\n');
}
