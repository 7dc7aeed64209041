/** A synthetic demo run for the summary, anomaly and report tests: 4 experts, 2 epochs of 2 steps, no training. */
import { demoDefaults } from './demo-options.js';
import type { DemoModelResult, DemoResult } from './run-demo.js';

/** What the fixture run's MoE looks like: the load of every training step and the test load after each epoch. */
export interface FixtureRouting {
  /** Images each expert took in every training step (batch 50, k = 1, so 50 − Σ load were dropped). */
  trainLoad: number[];
  /** Test pairs each expert took after each epoch (100 test images, k = 1: 100 − Σ load were dropped). */
  testLoad: number[];
}

/**
 * The run: every step's loss falls 2.0, 1.5, 1.0, 0.5 (MoE) and 1.9, 1.4, 0.9, 0.4 (dense), training
 * accuracy rises 0.5, 0.6, 0.7, 0.8; the test after epochs 1 and 2 has loss 1.2, 0.6 and accuracy 0.7, 0.9.
 */
export function fixtureDemoResult({ trainLoad, testLoad }: FixtureRouting): DemoResult {
  const batchDropped = 50 - trainLoad.reduce((a, b) => a + b, 0);
  const testDropped = 100 - testLoad.reduce((a, b) => a + b, 0);
  const model = (lossOffset: number, routed: boolean): DemoModelResult => ({
    history: [0, 1, 2, 3].map((i) => ({
      epoch: Math.floor(i / 2), batch: i % 2, batchesPerEpoch: 2, loss: 2 - 0.5 * i - lossOffset, accuracy: 0.5 + 0.1 * i,
      ...(routed ? { load: [...trainLoad], dropped: batchDropped } : {}),
    })),
    epochs: [0, 1].map((epoch) => ({ epoch, accuracy: [0.7, 0.9][epoch]!, loss: [1.2, 0.6][epoch]!, ...(routed ? { load: [...testLoad], dropped: testDropped } : {}) })),
    accuracy: 0.9,
    ...(routed ? { testLoad: [...testLoad] } : {}),
    parameters: routed ? 1000 : 600,
    activeParameters: 600,
    trainDropped: routed ? 4 * batchDropped : 0,
    testDropped: routed ? testDropped : 0,
    seconds: 2,
  });
  return {
    options: { ...demoDefaults, epochs: 2, trainSize: 100, testSize: 100 },
    backend: 'wasm', machine: 'test machine', date: '2026-12-01T00:00:00.000Z',
    moe: model(0, true), dense: model(0.1, false),
    // every test image of class c went to expert c mod 4 (10 images per class)
    matrix: {
      counts: [0, 1, 2, 3].map((e) => Array.from({ length: 10 }, (_, c) => (c % 4 === e ? 10 : 0))),
      total: 100, load: [0.3, 0.3, 0.2, 0.2], classEntropy: [1.585, 1.585, 1, 1], mutualInformation: 1.971,
    },
  };
}
