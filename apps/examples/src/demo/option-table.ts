/** A command's options as a table for `--help`: option, default and meaning in aligned columns, wrapped to a width. */

/** One row of an {@link optionTable}. */
export interface OptionRow {
  /** The option as typed, with its value's name: `--epochs N`. */
  option: string;
  /** The default, as the user would type it; absent for a flag. */
  default?: string | number;
  /** What the option does, wrapped to the description column. */
  description: string;
}

/** The words of `text` in lines of at most `width` characters (a longer word gets a line of its own). */
export function wrapWords(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter((w) => w !== '')) {
    if (line !== '' && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line === '' ? word : `${line} ${word}`;
    }
  }
  if (line !== '') lines.push(line);
  return lines;
}

/** Defaults longer than this start the row's description on the next line rather than widen the column. */
const DEFAULT_COLUMN_MAX = 10;

/**
 * The rows under a header `option / default / description`, each column starting at the same place on
 * every line, every line at most `width` characters (79: an 80-column terminal never wraps).
 */
export function optionTable(rows: readonly OptionRow[], width = 79): string {
  const indent = '  ';
  const optionWidth = Math.max(...rows.map((r) => r.option.length), 'option'.length) + 2;
  const defaultWidth = Math.max(...rows.map((r) => String(r.default ?? '').length).filter((n) => n <= DEFAULT_COLUMN_MAX), 'default'.length) + 2;
  const descriptionAt = indent.length + optionWidth + defaultWidth;
  const descriptionWidth = width - descriptionAt;
  const continuation = ' '.repeat(descriptionAt);
  const out = [`${indent}${'option'.padEnd(optionWidth)}${'default'.padEnd(defaultWidth)}description`.trimEnd()];
  for (const row of rows) {
    const value = String(row.default ?? '');
    const description = wrapWords(row.description, descriptionWidth);
    const head = `${indent}${row.option.padEnd(optionWidth)}`;
    if (value.length > defaultWidth - 2) { // a long default: alone on its line, the description below it
      out.push(`${head}${value}`, ...description.map((l) => `${continuation}${l}`));
    } else {
      out.push(`${head}${value.padEnd(defaultWidth)}${description[0] ?? ''}`.trimEnd(), ...description.slice(1).map((l) => `${continuation}${l}`));
    }
  }
  return out.join('\n');
}
