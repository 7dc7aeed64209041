import { describe, expect, it } from 'vitest';
import { demoAnomalies, lastEpochTrainLoad } from './demo-anomalies.js';
import { fixtureDemoResult } from './demo-run-fixture.js';

describe('demoAnomalies', () => {
  it('says one sentence per dead expert and per drop rate above 1 %', () => {
    // training: every step routes [20, 15, 0, 10] of 50 images, 5 dropped; the last epoch's 2 steps: [40, 30, 0, 20], Σ 90
    // test: [60, 30, 0, 0] of 100 pairs, 10 dropped
    const result = fixtureDemoResult({ trainLoad: [20, 15, 0, 10], testLoad: [60, 30, 0, 0] });
    expect(lastEpochTrainLoad(result)).toEqual([40, 30, 0, 20]);
    expect(demoAnomalies(result)).toEqual([
      'Expert 2 took none of the test images and no training image in the last epoch: it is dead, its parameters do nothing at test time and no longer learn.',
      // 20 / 90 = 22.2 %
      'Expert 3 took none of the test images although it took 22.2 % of the training images in the last epoch: it is dead at evaluation, where the router routes without its training noise, so it learns a share of the task that the test never uses.',
      // 4 steps × 5 = 20 of 4 × 50 = 200 pairs
      'Training dropped 10.0 % of the (image, expert) pairs (20 of 200) at capacity factor 1.25: those images skipped an expert the router chose and reached the head through the residual path alone, so the experts trained on fewer images than were routed to them (a larger --capacity-factor, or 0 for dropless, keeps them).',
      "Evaluation dropped 10.0 % of the test (image, expert) pairs (10 of 100): the test accuracy was measured with those images missing an expert's output, so it understates the model (--eval-capacity-factor 0 measures it dropless).",
    ]);
  });

  it('names an expert that stopped learning while evaluation still uses it', () => {
    // training [25, 25, 0, 0] per step; test [50, 25, 25, 0]: expert 3 is dead in both, expert 2 in training only (25 % of the test)
    expect(demoAnomalies(fixtureDemoResult({ trainLoad: [25, 25, 0, 0], testLoad: [50, 25, 25, 0] }))).toEqual([
      'Expert 2 took no training image in the last epoch yet 25.0 % of the test images: it has stopped learning, and those test images meet weights left from an earlier epoch.',
      'Expert 3 took none of the test images and no training image in the last epoch: it is dead, its parameters do nothing at test time and no longer learn.',
    ]);
  });

  it('says nothing of a healthy run, nor of drops of exactly 1 %', () => {
    // 1 of 100 test pairs dropped: 1 %, not above it; no training drop
    expect(demoAnomalies(fixtureDemoResult({ trainLoad: [13, 12, 13, 12], testLoad: [25, 25, 25, 24] }))).toEqual([]);
  });
});
