import { describe, expect, it } from 'vitest';
import { BAR_CELLS, bar, ProgressBar } from './progress-bar.js';
import { fitLine } from './progress-line.js';
import { compactLoadShares, loadShares, progressStatus } from './progress-status.js';

// the demo's MoE half-way through its run, mid-epoch and at the epoch's end; 4 experts (the default) and 8
const four = [260, 240, 250, 250]; // 1000 images: 26.0% 24.0% 25.0% 25.0%
const eight = [130, 120, 125, 125, 110, 140, 125, 125]; // 13.0% 12.0% 12.5% …
const status = (load: number[], test?: { dropped?: number }) => progressStatus({ epoch: 1, epochs: 2, loss: 0.43125, accuracy: 0.8731, load, ...(test ? { test: { accuracy: 0.9124, load, ...test } } : {}) });
const mid = status(four);
const end = status(four, { dropped: 12 });
const moe = () => new ProgressBar({ write: () => {} }, 'MoE-CNN', 100, 9);

describe('the progress line', () => {
  it('formats each expert\'s share in full and compactly', () => {
    expect(loadShares([1, 1, 2])).toBe('25.0% 25.0% 50.0%');
    expect(compactLoadShares([1, 1, 2])).toBe('25/25/50%');
    expect(compactLoadShares([0, 0])).toBe('0/0%'); // no image yet: no division by zero
  });

  it('fills a 120-column terminal in full, the bar taking the room left', () => {
    // 9 + 1 + 12 + 1 + 4 + 1 + 9 + 1 + 11 + 1 + 9 + 1 + 28 (the load) = 88 with a 10-cell bar: 119 − 88 > 14, so 24 cells
    expect(moe().line(50, mid, 120)).toBe(`MoE-CNN   ${bar(0.5, BAR_CELLS.max)}  50% epoch 1/2 loss 0.4313 acc 0.873 load 26.0% 24.0% 25.0% 25.0%`);
    // 8 experts: the load is 52 columns, 112 with a 10-cell bar, so the bar gets 10 + 7 cells
    expect(moe().line(50, status(eight), 120)).toBe(`MoE-CNN   ${bar(0.5, 17)}  50% epoch 1/2 loss 0.4313 acc 0.873 load 13.0% 12.0% 12.5% 12.5% 11.0% 14.0% 12.5% 12.5%`);
  });

  it('fits an 80-column terminal: compact loads first, then shorter words, then the bar gives way', () => {
    // the full load makes 88 > 79 columns; the compact one (17) makes 77: the bar gets 10 + 2 cells
    expect(moe().line(50, mid, 80)).toBe(`MoE-CNN   ${bar(0.5, 12)}  50% epoch 1/2 loss 0.4313 acc 0.873 load 26/24/25/25%`);
    expect(moe().line(100, end, 80)).toBe('MoE-CNN   100% ep 1/2 loss 0.4313 | test acc 0.912 load 26/24/25/25% dropped 12');
    // 8 experts: the bar goes before the per-expert load does
    expect(moe().line(50, status(eight), 80)).toBe('MoE-CNN    50% ep 1/2 loss 0.4313 acc 0.873 load 13/12/13/13/11/14/13/13%');
    expect(moe().line(100, status(eight, { dropped: 12 }), 80)).toBe('MoE-CNN   100% ep 1/2 loss 0.4313 | test acc 0.912 dropped 12');
  });

  it('keeps what matters on a 40-column terminal: the model, the epoch, the loss and the test accuracy', () => {
    expect(moe().line(50, mid, 40)).toBe('MoE-CNN    50% ep 1/2 loss 0.4313');
    expect(moe().line(100, end, 40)).toBe('MoE-CNN 1/2 loss 0.4313 | test 0.912');
    expect(moe().line(100, end, 50)).toBe('MoE-CNN 1/2 loss 0.4313 | test 0.912 dropped 12');
  });

  it('never exceeds the width, for every width from 1 to 160', () => {
    for (let columns = 1; columns <= 160; columns++) {
      expect(moe().line(37, end, columns).length).toBeLessThanOrEqual(Math.max(0, columns - 1));
    }
  });

  it('takes the steps in the order of their rank and cuts with … only when all are taken', () => {
    const segments = [{ forms: ['alpha', 'a'], giveWay: [2] }, { forms: ['beta', ''], giveWay: [1] }, { forms: ['gamma'] }];
    expect(fitLine(segments, 16)).toBe('alpha beta gamma');
    expect(fitLine(segments, 15)).toBe('alpha gamma'); // rank 1: beta goes first
    expect(fitLine(segments, 10)).toBe('a gamma');
    expect(fitLine(segments, 5)).toBe('a ga…');
  });
});

describe('ProgressBar on a stream', () => {
  it('redraws in place on a terminal, fitted to its columns, and keeps each epoch\'s last line', () => {
    const out: string[] = [];
    const progress = new ProgressBar({ write: (t: string) => out.push(t), isTTY: true, columns: 60 }, 'MoE-CNN', 4, 9);
    progress.update(1, mid);
    progress.update(2, end, true);
    progress.update(3, mid);
    progress.finish();
    expect(out).toHaveLength(4);
    // carriage return, the line in 59 columns (the bar gave way), erase to the end of the line
    expect(out[0]).toBe('\rMoE-CNN    25% ep 1/2 loss 0.4313 load 26/24/25/25%\x1b[K');
    expect(out[1]!.endsWith('\x1b[K\n')).toBe(true); // the epoch's end stays on the screen
    expect(out[2]!.startsWith('\r')).toBe(true);
    expect(out[3]).toBe('\n');
    for (const text of out.slice(0, 3)) expect(text.replace(/^\r|\x1b\[K\n?$/g, '').length).toBeLessThanOrEqual(59);
  });

  it('keeps the bar from growing back as the numbers get shorter, until the terminal is resized', () => {
    const progress = moe();
    const short = progressStatus({ epoch: 1, epochs: 2, loss: 0.43125, accuracy: 0.8731, load: [1000, 0, 0, 0] }); // load 100/0/0/0%: 2 columns fewer than 26/24/25/25%
    expect(progress.line(10, mid, 80)).toBe(`MoE-CNN   ${bar(0.1, 12)}  10% epoch 1/2 loss 0.4313 acc 0.873 load 26/24/25/25%`);
    expect(progress.line(20, short, 80)).toBe(`MoE-CNN   ${bar(0.2, 12)}  20% epoch 1/2 loss 0.4313 acc 0.873 load 100/0/0/0%`); // room for 14, keeps 12
    expect(progress.line(30, mid, 120)).toContain(` ${bar(0.3, BAR_CELLS.max)} `); // a new width starts again
    expect(progress.line(50, status(four, {}), 120, true)).toContain(` ${bar(0.5, 17)} `); // an epoch's end, longer and transient
    expect(progress.line(60, mid, 120)).toContain(` ${bar(0.6, BAR_CELLS.max)} `); // the lines after it keep their bar
  });

  it('assumes 80 columns on a terminal that does not report its width', () => {
    const out: string[] = [];
    new ProgressBar({ write: (t: string) => out.push(t), isTTY: true }, 'MoE-CNN', 100, 9).update(50, mid);
    expect(out[0]).toBe(`\r${moe().line(50, mid, 80)}\x1b[K`);
  });

  it('writes one plain line per epoch when the stream is not a terminal: no bar, no escape, nothing cut', () => {
    const out: string[] = [];
    const progress = new ProgressBar({ write: (t: string) => out.push(t), isTTY: false, columns: 40 }, 'MoE-CNN', 4, 9);
    progress.update(1, mid);
    progress.update(2, end, true);
    progress.finish();
    expect(out).toEqual(['MoE-CNN   epoch 1/2 loss 0.4313 acc 0.873 load 26.0% 24.0% 25.0% 25.0% | test acc 0.912 load 26.0% 24.0% 25.0% 25.0% dropped 12\n']);
  });
});
