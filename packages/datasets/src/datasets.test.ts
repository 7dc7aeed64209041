import { describe, expect, it } from 'vitest';
import { loadMnist } from './mnist.js';
import { loadMobyDickChapters, loadMobyDickText } from './moby-dick.js';

describe('loadMnist', () => {
  it('reads the first training images and labels of the IDX files', () => {
    const { images, labels, count, rows, cols } = loadMnist({ split: 'train', count: 3 });
    expect([count, rows, cols]).toEqual([3, 28, 28]);
    // The first three MNIST training labels are 5, 0, 4 (the famous first row of the training set).
    expect(Array.from(labels)).toEqual([5, 0, 4]);
    expect(images.length).toBe(3 * 28 * 28);
    expect(Math.min(...images)).toBe(0);
    expect(Math.max(...images)).toBe(1); // 255 / 255: every MNIST digit has a saturated pixel
  });

  it('reads from an offset and the whole test split', () => {
    const tail = loadMnist({ split: 'train', offset: 1, count: 2 });
    expect(Array.from(tail.labels)).toEqual([0, 4]);
    const head = loadMnist({ split: 'train', count: 3 });
    expect(tail.images.subarray(0, 784)).toEqual(head.images.subarray(784, 1568));
    const test = loadMnist({ split: 'test' });
    expect(test.count).toBe(10_000);
    // The test split's first label is 7; each digit occurs between 892 (5) and 1135 (1) times.
    expect(test.labels[0]).toBe(7);
    const perDigit = new Array<number>(10).fill(0);
    for (const label of test.labels) perDigit[label]! += 1;
    expect(Math.min(...perDigit)).toBe(892);
    expect(Math.max(...perDigit)).toBe(1135);
  });

  it('names the bad argument', () => {
    expect(() => loadMnist({ split: 'valid' as never })).toThrow(/split must be 'train' or 'test', got "valid"/);
    expect(() => loadMnist({ split: 'test', offset: 10_000 })).toThrow(/offset must be an integer in \[0, 9999\], got 10000/);
    expect(() => loadMnist({ split: 'test', offset: 9_999, count: 2 })).toThrow(/count must be an integer in \[1, 1\] \(offset 9999\), got 2/);
  });
});

describe('Moby-Dick', () => {
  it('reads the chapters in order and joins the story text', () => {
    const chapters = loadMobyDickChapters();
    expect(chapters.length).toBe(139);
    expect([chapters[3]!.chapter, chapters[3]!.title]).toEqual(['1', 'Loomings.']);
    const text = loadMobyDickText();
    expect(text.startsWith('Call me Ishmael. Some years ago')).toBe(true);
    expect(text.length).toBeGreaterThan(1_000_000);
  });
});
