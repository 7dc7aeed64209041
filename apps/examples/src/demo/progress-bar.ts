/** A one-line progress bar for a terminal; on a non-terminal stream it prints one line per epoch instead. */

/** Where a {@link ProgressBar} writes. */
export interface ProgressStream {
  write(text: string): unknown;
  isTTY?: boolean;
}

/** `[#####.....]` of `width` cells for `fraction` in [0, 1]. */
export function bar(fraction: number, width: number): string {
  const filled = Math.round(Math.min(1, Math.max(0, fraction)) * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
}

/** Redraws one line as training advances: label, bar, percentage and a status text. */
export class ProgressBar {
  private lastLength = 0;

  /** `total` steps in all. */
  constructor(private readonly stream: ProgressStream, private readonly label: string, private readonly total: number, private readonly width = 24) {}

  /** Shows step `done` (1-based) of the total with `status`; `endOfEpoch` forces a line on a non-terminal stream. */
  update(done: number, status: string, endOfEpoch = false): void {
    const line = `${this.label} ${bar(done / this.total, this.width)} ${String(Math.round((100 * done) / this.total)).padStart(3)}% ${status}`;
    if (this.stream.isTTY) {
      this.stream.write(`\r${line}${' '.repeat(Math.max(0, this.lastLength - line.length))}`);
      this.lastLength = line.length;
    } else if (endOfEpoch) {
      this.stream.write(`${line}\n`);
    }
  }

  /** Ends the line on a terminal. */
  finish(): void {
    if (this.stream.isTTY) this.stream.write('\n');
  }
}
