import { describe, expect, it } from 'vitest';
import { optionTable, wrapWords } from './option-table.js';

describe('optionTable', () => {
  it('wraps words to a width, a longer word on a line of its own', () => {
    expect(wrapWords('one two three four', 9)).toEqual(['one two', 'three', 'four']);
    expect(wrapWords('a verylongword b', 4)).toEqual(['a', 'verylongword', 'b']);
  });

  it('aligns option, default and description in columns, a long default alone on its line', () => {
    const table = optionTable([
      { option: '--epochs N', default: 3, description: 'passes over the training images' },
      { option: '--report PATH', default: 'moekit-report.html', description: 'where to write' },
      { option: '--help', description: 'print this help' },
    ], 41);
    // option column: '--report PATH' (13) + 2 = 15; default column: 'default' (7) + 2 = 9 (18 > 10: not counted); descriptions at 2 + 15 + 9 = 26, 41 − 26 = 15 wide
    expect(table.split('\n')).toEqual([
      '  option         default  description',
      '  --epochs N     3        passes over the',
      '                          training images',
      '  --report PATH  moekit-report.html',
      '                          where to write',
      '  --help                  print this help',
    ]);
  });
});
