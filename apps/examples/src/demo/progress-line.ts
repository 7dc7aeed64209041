/**
 * Fits a progress line to a terminal's width: each part of the line has forms from the fullest to the
 * most compact, and the steps between forms are taken in the order of their rank until the line fits.
 */

/** One part of a progress line. */
export interface LineSegment {
  /** The texts from the fullest to the most compact; `''` drops the part. At least one. */
  forms: string[];
  /**
   * `giveWay[i]` is the rank of the step from `forms[i]` to `forms[i + 1]`: steps of lower rank are
   * taken first, over all segments (ascending within a segment). Missing: the part never shrinks.
   */
  giveWay?: number[];
}

/** The character that ends a line cut as a last resort. */
export const ELLIPSIS = '…';

const joined = (texts: string[]) => texts.filter((t) => t !== '').join(' ');

/**
 * The segments, joined by single spaces, in at most `width` characters: the fullest forms that fit,
 * shrinking by rank; when every step is taken and the line is still too long, it is cut and ends in `…`.
 */
export function fitLine(segments: readonly LineSegment[], width: number): string {
  const text = lineOf(segments, chooseForms(segments, width));
  if (text.length <= width) return text;
  return width <= 0 ? '' : `${text.slice(0, width - 1)}${ELLIPSIS}`;
}

/** The segments in the forms `chosen` (an index per segment), joined by single spaces. */
export function lineOf(segments: readonly LineSegment[], chosen: readonly number[]): string {
  return joined(segments.map((s, i) => s.forms[chosen[i]!]!));
}

/** The form index per segment of the fullest line that fits in `width` (the most compact when none fits). */
export function chooseForms(segments: readonly LineSegment[], width: number): number[] {
  const chosen = segments.map(() => 0);
  const steps = segments
    .flatMap((s, i) => (s.giveWay ?? []).slice(0, s.forms.length - 1).map((rank, form) => ({ segment: i, form, rank })))
    .sort((a, b) => a.rank - b.rank || a.form - b.form);
  for (const step of steps) {
    if (lineOf(segments, chosen).length <= width) break;
    chosen[step.segment] = Math.max(chosen[step.segment]!, step.form + 1);
  }
  return chosen;
}
