// The page's live plots on plain canvases: line charts (loss, accuracy), bars (load per expert) and a
// heat map (expert × class). No chart library: each is redrawn whole after every step.

/** One line of a line chart. */
export interface Series {
  label: string;
  color: string;
  /** `[x, y]` points in drawing order. */
  points: Array<[number, number]>;
}

const PAD = { left: 44, right: 10, top: 22, bottom: 22 };
const AXIS = '#666';
const FONT = '11px system-ui, sans-serif';

function context(canvas: HTMLCanvasElement, title: string): CanvasRenderingContext2D {
  const ctx = canvas.getContext('2d')!;
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  ctx.font = FONT;
  ctx.fillStyle = '#222';
  ctx.textBaseline = 'alphabetic';
  ctx.fillText(title, PAD.left, 14);
  return ctx;
}

/** Draws `series` on shared axes; `yRange` fixes the y axis (else it spans the data). */
export function drawLines(canvas: HTMLCanvasElement, title: string, series: Series[], yRange?: [number, number]): void {
  const ctx = context(canvas, title);
  const all = series.flatMap((s) => s.points);
  if (all.length === 0) return;
  const xMax = Math.max(1, ...all.map(([x]) => x));
  const [yMin, yMax] = yRange ?? [Math.min(0, ...all.map(([, y]) => y)), Math.max(...all.map(([, y]) => y)) || 1];
  const w = canvas.width - PAD.left - PAD.right;
  const h = canvas.height - PAD.top - PAD.bottom;
  const px = (x: number) => PAD.left + (x / xMax) * w;
  const py = (y: number) => PAD.top + h - ((y - yMin) / (yMax - yMin || 1)) * h;
  ctx.strokeStyle = AXIS;
  ctx.strokeRect(PAD.left, PAD.top, w, h);
  ctx.fillStyle = AXIS;
  ctx.fillText(yMax.toFixed(2), 4, PAD.top + 8);
  ctx.fillText(yMin.toFixed(2), 4, PAD.top + h);
  ctx.fillText(`step ${xMax}`, PAD.left + w - 50, canvas.height - 6);
  series.forEach((s, i) => {
    ctx.strokeStyle = s.color;
    ctx.lineWidth = 1.5;
    ctx.beginPath();
    s.points.forEach(([x, y], j) => (j === 0 ? ctx.moveTo(px(x), py(y)) : ctx.lineTo(px(x), py(y))));
    ctx.stroke();
    ctx.fillStyle = s.color;
    ctx.fillText(s.label, PAD.left + 240 + i * 130, 14);
  });
}

/** Draws one bar per expert: its share of the step's (token, expert) pairs. */
export function drawBars(canvas: HTMLCanvasElement, title: string, values: number[]): void {
  const ctx = context(canvas, title);
  if (values.length === 0) return;
  const total = values.reduce((a, b) => a + b, 0) || 1;
  const share = values.map((v) => v / total);
  const top = Math.max(...share, 1 / values.length) * 1.1;
  const w = canvas.width - PAD.left - PAD.right;
  const h = canvas.height - PAD.top - PAD.bottom;
  const bar = w / values.length;
  ctx.strokeStyle = AXIS;
  ctx.strokeRect(PAD.left, PAD.top, w, h);
  // the balanced share 1/E as a dashed line
  const even = PAD.top + h - (1 / values.length / top) * h;
  ctx.setLineDash([4, 3]);
  ctx.beginPath();
  ctx.moveTo(PAD.left, even);
  ctx.lineTo(PAD.left + w, even);
  ctx.stroke();
  ctx.setLineDash([]);
  share.forEach((s, e) => {
    ctx.fillStyle = '#3b7dd8';
    ctx.fillRect(PAD.left + e * bar + 2, PAD.top + h - (s / top) * h, bar - 4, (s / top) * h);
    ctx.fillStyle = AXIS;
    ctx.fillText(String(e), PAD.left + e * bar + bar / 2 - 3, canvas.height - 6);
  });
  ctx.fillText(`${(100 * top).toFixed(0)}%`, 4, PAD.top + 8);
}

/** Draws `matrix` `[E][10]` as a heat map, each digit's column normalised to its images. */
export function drawHeatmap(canvas: HTMLCanvasElement, title: string, matrix: number[][]): void {
  const ctx = context(canvas, title);
  if (matrix.length === 0) return;
  const classes = matrix[0]!.length;
  const w = canvas.width - PAD.left - PAD.right;
  const h = canvas.height - PAD.top - PAD.bottom;
  const cw = w / classes;
  const ch = h / matrix.length;
  for (let c = 0; c < classes; c++) {
    const column = matrix.reduce((sum, row) => sum + row[c]!, 0) || 1;
    matrix.forEach((row, e) => {
      const v = row[c]! / column;
      ctx.fillStyle = `rgba(59, 125, 216, ${v.toFixed(3)})`;
      ctx.fillRect(PAD.left + c * cw, PAD.top + e * ch, cw - 1, ch - 1);
    });
    ctx.fillStyle = AXIS;
    ctx.fillText(String(c), PAD.left + c * cw + cw / 2 - 3, canvas.height - 6);
  }
  matrix.forEach((_, e) => ctx.fillText(`e${e}`, 16, PAD.top + e * ch + ch / 2 + 4));
}
