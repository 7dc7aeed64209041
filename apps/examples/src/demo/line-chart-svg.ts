/** A self-contained SVG line chart (no script, no external reference), for the demo's HTML report. */

/** One line of a {@link lineChartSvg}. */
export interface ChartSeries {
  /** Legend label. */
  label: string;
  /** `[x, y]` points, x ascending. */
  points: [number, number][];
  /** CSS colour. */
  color: string;
  /** SVG `stroke-dasharray` (e.g. `'5 3'`); solid when absent. */
  dash?: string;
  /** A dot at each point (for a few points, e.g. one per epoch). */
  markers?: boolean;
}

/** Options of {@link lineChartSvg}. */
export interface LineChartOptions {
  /** Title above the plot. */
  title: string;
  /** x-axis label. */
  xLabel: string;
  /** y-axis label. */
  yLabel: string;
  /** Width in pixels. Default 640. */
  width?: number;
  /** Height in pixels. Default 300. */
  height?: number;
  /** Fixed y range; default the data's range. */
  yRange?: [number, number];
  /** Fixed x range (charts shown side by side share one); default the data's range. */
  xRange?: [number, number];
}

const escapeXml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** Round tick values covering `[min, max]`. */
function ticks(min: number, max: number, count: number): number[] {
  const span = max - min || 1;
  const step0 = span / count;
  const magnitude = 10 ** Math.floor(Math.log10(step0));
  const step = [1, 2, 5, 10].map((m) => m * magnitude).find((s) => s >= step0)!;
  const out: number[] = [];
  for (let v = Math.ceil(min / step) * step; v <= max + 1e-12; v += step) out.push(Number(v.toPrecision(6)));
  return out;
}

/** Draws `series` as polylines with axes, ticks and a legend. */
export function lineChartSvg(series: ChartSeries[], options: LineChartOptions): string {
  const width = options.width ?? 640;
  const height = options.height ?? 300;
  const m = { left: 56, right: 150, top: 28, bottom: 40 };
  const all = series.flatMap((s) => s.points).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
  const xs = all.map((p) => p[0]);
  const ys = all.map((p) => p[1]);
  const [xMin, xMax] = options.xRange ?? [xs.length ? Math.min(...xs) : 0, xs.length ? Math.max(...xs) : 1];
  const [yMin, yMax] = options.yRange ?? [ys.length ? Math.min(0, ...ys) : 0, ys.length ? Math.max(...ys) : 1];
  const pw = width - m.left - m.right;
  const ph = height - m.top - m.bottom;
  const sx = (x: number) => m.left + ((x - xMin) / (xMax - xMin || 1)) * pw;
  const sy = (y: number) => m.top + ph - ((y - yMin) / (yMax - yMin || 1)) * ph;
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`);
  parts.push(`<text x="${m.left}" y="16" font-size="13" font-weight="bold">${escapeXml(options.title)}</text>`);
  for (const t of ticks(yMin, yMax, 5)) {
    parts.push(`<line x1="${m.left}" x2="${m.left + pw}" y1="${sy(t).toFixed(1)}" y2="${sy(t).toFixed(1)}" stroke="#e3e3e3"/>`);
    parts.push(`<text x="${m.left - 6}" y="${(sy(t) + 4).toFixed(1)}" text-anchor="end">${t}</text>`);
  }
  for (const t of ticks(xMin, xMax, 6)) parts.push(`<text x="${sx(t).toFixed(1)}" y="${m.top + ph + 16}" text-anchor="middle">${t}</text>`);
  parts.push(`<rect x="${m.left}" y="${m.top}" width="${pw}" height="${ph}" fill="none" stroke="#888"/>`);
  parts.push(`<text x="${m.left + pw / 2}" y="${height - 6}" text-anchor="middle">${escapeXml(options.xLabel)}</text>`);
  parts.push(`<text transform="translate(14 ${m.top + ph / 2}) rotate(-90)" text-anchor="middle">${escapeXml(options.yLabel)}</text>`);
  series.forEach((s, i) => {
    const pts = s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y)).map(([x, y]) => `${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join(' ');
    const dash = s.dash ? ` stroke-dasharray="${s.dash}"` : '';
    parts.push(`<polyline class="series" fill="none" stroke="${s.color}" stroke-width="1.6"${dash} points="${pts}"/>`);
    if (s.markers) {
      for (const [x, y] of s.points) if (Number.isFinite(x) && Number.isFinite(y)) parts.push(`<circle cx="${sx(x).toFixed(1)}" cy="${sy(y).toFixed(1)}" r="3" fill="${s.color}"/>`);
    }
    const ly = m.top + 10 + i * 16;
    parts.push(`<line x1="${m.left + pw + 12}" x2="${m.left + pw + 32}" y1="${ly}" y2="${ly}" stroke="${s.color}" stroke-width="2"${dash}/>`);
    parts.push(`<text x="${m.left + pw + 36}" y="${ly + 4}">${escapeXml(s.label)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n');
}

/** Mean of each consecutive window of `size` values, at the window's last index (1-based x). */
export function windowMeans(values: number[], size: number): [number, number][] {
  const out: [number, number][] = [];
  for (let start = 0; start < values.length; start += size) {
    const w = values.slice(start, start + size);
    out.push([start + w.length, w.reduce((a, b) => a + b, 0) / w.length]);
  }
  return out;
}
