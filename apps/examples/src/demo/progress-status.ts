/** The demo's progress status as line segments: what each part says in full and how it shrinks. */
import { GIVE_WAY } from './progress-bar.js';
import type { LineSegment } from './progress-line.js';

/** Where training stands, for the progress line. */
export interface ProgressState {
  /** 1-based epoch. */
  epoch: number;
  /** Epochs in all. */
  epochs: number;
  /** Mean training loss of the epoch so far. */
  loss: number;
  /** Mean training accuracy of the epoch so far. */
  accuracy: number;
  /** Images each expert took in the epoch so far (MoE only). */
  load?: number[];
  /** The test images after the epoch (at its end only). */
  test?: { accuracy: number; load?: number[]; dropped?: number };
}

const fractions = (load: readonly number[]) => {
  const total = load.reduce((a, b) => a + b, 0);
  return load.map((l) => (total === 0 ? 0 : l / total));
};

/** Each expert's share in percent with one decimal: `25.1% 24.9% 50.0%`. */
export function loadShares(load: readonly number[]): string {
  return fractions(load).map((f) => `${(100 * f).toFixed(1)}%`).join(' ');
}

/** Each expert's share in whole percent: `25/25/50%`. */
export function compactLoadShares(load: readonly number[]): string {
  return `${fractions(load).map((f) => Math.round(100 * f)).join('/')}%`;
}

/** The segments of the status after the bar. */
export function progressStatus(p: ProgressState): LineSegment[] {
  const of = `${p.epoch}/${p.epochs}`;
  const segments: LineSegment[] = [
    { forms: [`epoch ${of}`, `ep ${of}`, of], giveWay: [GIVE_WAY.epochShort, GIVE_WAY.epochShortest] },
    { forms: [`loss ${p.loss.toFixed(4)}`] },
    { forms: [`acc ${p.accuracy.toFixed(3)}`, ''], giveWay: [GIVE_WAY.trainAccuracyDrop] },
  ];
  if (p.load) segments.push({ forms: [`load ${loadShares(p.load)}`, `load ${compactLoadShares(p.load)}`, ''], giveWay: [GIVE_WAY.trainLoadCompact, GIVE_WAY.trainLoadDrop] });
  if (p.test) {
    const acc = p.test.accuracy.toFixed(3);
    segments.push({ forms: [`| test acc ${acc}`, `| test ${acc}`], giveWay: [GIVE_WAY.testAccuracyShort] });
    if (p.test.load) segments.push({ forms: [`load ${loadShares(p.test.load)}`, `load ${compactLoadShares(p.test.load)}`, ''], giveWay: [GIVE_WAY.testLoadCompact, GIVE_WAY.testLoadDrop] });
    if (p.test.dropped) segments.push({ forms: [`dropped ${p.test.dropped}`, ''], giveWay: [GIVE_WAY.droppedDrop] }); // an anomaly: gives way last
  }
  return segments;
}
