import type { ExpertClassMatrix } from './expert-class-matrix.js';

/** Options of {@link expertClassMatrixSvg}. */
export interface ExpertClassMatrixSvgOptions {
  /** Title above the matrix. Default `'Experts × classes'`. */
  title?: string;
  /** Class names for the columns. Default `0, 1, …`. */
  classNames?: string[];
  /** Side of one cell in pixels. Default 28. */
  cellSize?: number;
}

const escapeXml = (s: string) => s.replace(/[<>&'"]/g, (ch) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[ch]!);

/**
 * The expert × class matrix as a self-contained SVG heat map (no scripts, no external resources): one row
 * per expert with its load and class entropy, one column per class, each cell shaded by the share of
 * the expert's images in that class and labelled with its count; the mutual information in the title.
 */
export function expertClassMatrixSvg(matrix: ExpertClassMatrix, options: ExpertClassMatrixSvgOptions = {}): string {
  const cell = options.cellSize ?? 28;
  const E = matrix.counts.length;
  const C = matrix.counts[0]?.length ?? 0;
  const names = options.classNames ?? Array.from({ length: C }, (_, c) => String(c));
  const left = 64;
  const top = 44;
  const right = 150;
  const width = left + C * cell + right;
  const height = top + E * cell + 12;
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`);
  parts.push(`<text x="${left}" y="16" font-size="13">${escapeXml(options.title ?? 'Experts × classes')} — I(E; C) = ${matrix.mutualInformation.toFixed(3)} bits</text>`);
  names.forEach((name, c) => parts.push(`<text x="${left + c * cell + cell / 2}" y="${top - 6}" text-anchor="middle">${escapeXml(name)}</text>`));
  matrix.counts.forEach((row, e) => {
    const rowTotal = row.reduce((a, b) => a + b, 0);
    const y = top + e * cell;
    parts.push(`<text x="${left - 6}" y="${y + cell / 2 + 4}" text-anchor="end">expert ${e}</text>`);
    row.forEach((n, c) => {
      const share = rowTotal === 0 ? 0 : n / rowTotal;
      const shade = Math.round(255 * (1 - share));
      parts.push(`<rect x="${left + c * cell}" y="${y}" width="${cell}" height="${cell}" fill="rgb(${shade},${shade},255)" stroke="#ccc"><title>expert ${e}, class ${escapeXml(names[c] ?? String(c))}: ${n}</title></rect>`);
      parts.push(`<text x="${left + c * cell + cell / 2}" y="${y + cell / 2 + 4}" text-anchor="middle" fill="${share > 0.5 ? '#fff' : '#000'}" font-size="9">${n}</text>`);
    });
    const entropy = Number.isNaN(matrix.classEntropy[e]!) ? '—' : `${matrix.classEntropy[e]!.toFixed(2)} bits`;
    parts.push(`<text x="${left + C * cell + 8}" y="${y + cell / 2 + 4}">load ${(100 * matrix.load[e]!).toFixed(1)}%, H ${entropy}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n');
}
