/**
 * A progress line for a terminal: redrawn in place and fitted to the terminal's width on a TTY (each
 * epoch's last line stays), one plain line per epoch on a stream that is not a terminal (a log, a pipe).
 */
import { chooseForms, ELLIPSIS, lineOf, type LineSegment } from './progress-line.js';

/** Where a {@link ProgressBar} writes: `process.stdout` or anything with its shape. */
export interface ProgressStream {
  write(text: string): unknown;
  /** A terminal: redraw in place. */
  isTTY?: boolean;
  /** The terminal's width (Node updates it on resize); {@link DEFAULT_COLUMNS} when unknown. */
  columns?: number;
}

/** The width assumed on a terminal that does not report one. */
export const DEFAULT_COLUMNS = 80;

/** The bar's cells: at least `min` (else it gives way), at most `max`, more as the terminal is wider. */
export const BAR_CELLS = { min: 10, max: 24 } as const;

/**
 * The order in which a progress line gives way to a narrow terminal (lowest first): the bar shrinks to
 * {@link BAR_CELLS}.min before any of these, the line is cut with `…` after all of them.
 */
export const GIVE_WAY = {
  /** Training load `25.1% 24.9% …` → `25/25/…%`. */
  trainLoadCompact: 1,
  /** Test load → integer percents. */
  testLoadCompact: 2,
  /** `epoch 1/3` → `ep 1/3`. */
  epochShort: 3,
  /** The bar goes (the percentage still tells the progress). */
  barDrop: 4,
  /** The training accuracy goes. */
  trainAccuracyDrop: 5,
  /** The training load goes. */
  trainLoadDrop: 6,
  /** The test load goes. */
  testLoadDrop: 7,
  /** The percentage goes. */
  percentDrop: 8,
  /** The label loses its padding. */
  labelUnpad: 9,
  /** `ep 1/3` → `1/3`. */
  epochShortest: 10,
  /** `| test acc 0.912` → `| test 0.912`. */
  testAccuracyShort: 11,
  /** The count of test pairs dropped goes (the summary and the report still say it). */
  droppedDrop: 12,
} as const;

/** `[#####.....]` of `width` cells for `fraction` in [0, 1]. */
export function bar(fraction: number, width: number): string {
  const filled = Math.round(Math.min(1, Math.max(0, fraction)) * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
}

/** Erases from the cursor to the end of the line (ANSI EL). */
const ERASE_TO_END = '\x1b[K';

/** Redraws one line as training advances: label, bar, percentage and status segments. */
export class ProgressBar {
  /** A redrawn line is on the screen without its newline. */
  private open = false;
  /** The bar's cells so far at `barColumns`: they only shrink, so that the bar does not jitter as the numbers change length. */
  private barCells: number = BAR_CELLS.max;
  private barColumns = 0;

  /** `total` steps in all; `labelWidth` pads the label so that several bars line up. */
  constructor(private readonly stream: ProgressStream, private readonly label: string, private readonly total: number, private readonly labelWidth = label.length) {}

  /**
   * The terminal line for step `done` (1-based) with `status`, in at most `columns - 1` characters
   * (a character in the last column makes some terminals wrap before the `\r`). A `transient` line (an
   * epoch's end, longer than the others) may narrow the bar without narrowing it for the lines after.
   */
  line(done: number, status: readonly LineSegment[], columns: number, transient = false): string {
    const width = columns - 1;
    const fraction = done / this.total;
    const head: LineSegment[] = [
      { forms: [this.label.padEnd(this.labelWidth), this.label], giveWay: [GIVE_WAY.labelUnpad] },
      { forms: [bar(fraction, BAR_CELLS.min), ''], giveWay: [GIVE_WAY.barDrop] },
      { forms: [`${String(Math.round(100 * fraction)).padStart(3)}%`, ''], giveWay: [GIVE_WAY.percentDrop] },
    ];
    const segments = [...head, ...status];
    const chosen = chooseForms(segments, width);
    let text = lineOf(segments, chosen);
    if (chosen[1] === 0) { // the bar stayed: it takes the room left, up to its most cells, and never grows back on one terminal width
      if (columns !== this.barColumns) [this.barCells, this.barColumns] = [BAR_CELLS.max, columns];
      const cells = Math.min(this.barCells, BAR_CELLS.min + Math.max(0, width - text.length));
      if (!transient) this.barCells = cells;
      segments[1] = { forms: [bar(fraction, cells)] };
      text = lineOf(segments, chosen);
    }
    if (text.length <= width) return text;
    return width <= 0 ? '' : `${text.slice(0, width - 1)}${ELLIPSIS}`;
  }

  /** The plain line of an epoch's end on a stream that is not a terminal: every segment in full, no bar. */
  plainLine(status: readonly LineSegment[]): string {
    return [this.label.padEnd(this.labelWidth), ...status.map((s) => s.forms[0]!)].filter((t) => t !== '').join(' ');
  }

  /** Shows step `done` (1-based) of the total with `status`; at `endOfEpoch` the line stays (a terminal) or is written (not a terminal). */
  update(done: number, status: readonly LineSegment[], endOfEpoch = false): void {
    if (this.stream.isTTY) {
      this.stream.write(`\r${this.line(done, status, this.stream.columns || DEFAULT_COLUMNS, endOfEpoch)}${ERASE_TO_END}${endOfEpoch ? '\n' : ''}`);
      this.open = !endOfEpoch;
    } else if (endOfEpoch) {
      this.stream.write(`${this.plainLine(status)}\n`);
    }
  }

  /** Ends a line left open on a terminal. */
  finish(): void {
    if (this.open) this.stream.write('\n');
    this.open = false;
  }
}
