import { describe, expect, it } from 'vitest';
import { demoDefaults } from './demo-options.js';
import type { DemoModelResult, DemoResult } from './run-demo.js';
import { summaryColumns, summaryForTerminal, summaryTable, summaryTableHtml, verdictLine } from './summary-table.js';

const model = (accuracy: number, testLoad?: number[]): DemoModelResult => ({
  history: [], epochs: [{ epoch: 0, accuracy }], accuracy, ...(testLoad ? { testLoad } : {}), parameters: 100, activeParameters: 50, trainDropped: 3, testDropped: 0, seconds: 1.5,
});
const result = (seeds?: DemoResult['seeds']): DemoResult => ({
  options: demoDefaults, backend: 'wasm', machine: 'test', date: '2026-12-01T00:00:00.000Z',
  moe: model(0.95, [300, 100, 0, 100]), dense: model(0.94),
  matrix: { counts: [], load: [], total: 0, mutualInformation: 0 } as unknown as DemoResult['matrix'],
  ...(seeds ? { seeds } : {}),
});

describe('the demo summary', () => {
  it('shows test routing health per model, as markdown and as an HTML table', () => {
    // load 300 100 0 100: shares 60 20 0 20 %, mean 125, population sd sqrt((175² + 25² + 125² + 25²)/4) = 108.25, CV 0.87, one dead expert
    const table = summaryTable(result());
    expect(table.split('\n')[2]).toBe('| MoE-CNN | 0.9500 | 100 | 50 | 60.0% 20.0% 0.0% 20.0% | 0.87 / 1 | 3 / 0 | 1.5 s |');
    expect(table.split('\n')[3]).toBe('| dense CNN | 0.9400 | 100 | 50 | — (no routing) | — | — | 1.5 s |');
    const html = summaryTableHtml(result());
    expect(html).toContain('<tr><th scope="row">MoE-CNN</th><td>0.9500</td><td>100</td><td>50</td><td>60.0% 20.0% 0.0% 20.0%</td><td>0.87 / 1</td>');
    expect(html).toMatch(/^<table class="summary">\n<caption>[^<]+<\/caption>\n<thead><tr><th scope="col">model<\/th><th scope="col">test accuracy \(one seed\)<\/th>/);
    expect(html.match(/<tr>/g)).toHaveLength(3); // the header and one row per model
  });

  it('turns the table on its side where the markdown is wider than the terminal', () => {
    // two spaces after the widest cell of each column: 'pairs dropped (train / test)' (28), '60.0% 20.0% 0.0% 20.0%' (22)
    expect(summaryColumns(result()).split('\n')).toEqual([
      '                              MoE-CNN                 dense CNN',
      'test accuracy (one seed)      0.9500                  0.9400',
      'parameters                    100                     100',
      'active params / image         50                      50',
      'test load per expert          60.0% 20.0% 0.0% 20.0%  — (no routing)',
      'test load CV / dead experts   0.87 / 1                —',
      'pairs dropped (train / test)  3 / 0                   —',
      'train time                    1.5 s                   1.5 s',
    ]);
    expect(summaryForTerminal(result(), 80)).toBe(summaryColumns(result())); // the markdown header is 170 columns
    expect(summaryForTerminal(result(), 200)).toBe(summaryTable(result()));
  });

  it('states the verdict by the two-standard-error rule over seeds, or says it is one seed', () => {
    expect(verdictLine(result())).toBe('One seed: the MoE-CNN scores 1.00 points above the dense CNN of the same active compute on test accuracy (run --seeds 3 for mean ± sd and the two-standard-error rule).');
    // MoE 0.95 0.96 0.97 (mean 0.96, sd 0.01), dense 0.93 0.94 0.95 (mean 0.94, sd 0.01): se = sqrt(2 · 0.0001 / 3) = 0.00816, 2·se = 1.63 points < 2
    const seeds = [0.95, 0.96, 0.97].map((moe, i) => ({ seed: i + 1, moe, dense: moe - 0.02, moeTrainLoss: 0.1, denseTrainLoss: 0.1, moeLoadCv: 0.1, moeDeadExperts: 0 }));
    expect(verdictLine(result(seeds))).toBe('Over 3 seeds the MoE-CNN beats the dense CNN of the same active compute by 2.00 points (beyond two standard errors ±1.63) on test accuracy.');
    expect(summaryTable(result(seeds))).toContain('| MoE-CNN | 0.9600 ± 0.0100 | 100 | 50 | 60.0% 20.0% 0.0% 20.0% | 0.10 ± 0.00 / 0.0 ± 0.0 |');
    const close = [0.95, 0.96, 0.97].map((moe, i) => ({ seed: i + 1, moe, dense: moe - 0.005, moeTrainLoss: 0.1, denseTrainLoss: 0.1, moeLoadCv: 0.1, moeDeadExperts: 0 }));
    expect(verdictLine(result(close))).toBe('Over 3 seeds the MoE-CNN matches the dense CNN of the same active compute (difference 0.50 points, within two standard errors ±1.63) on test accuracy.');
    // trailing: the same runs' last-epoch training losses say whether the MoE underfits (mean 0.12 against 0.07)
    const trailing = [0.91, 0.92, 0.93].map((moe, i) => ({ seed: i + 1, moe, dense: moe + 0.03, moeTrainLoss: 0.11 + 0.01 * i, denseTrainLoss: 0.07, moeLoadCv: 0.1, moeDeadExperts: 0 }));
    const withHistory = { ...result(trailing), dense: { ...model(0.95), history: [{ epoch: 0, batch: 0, batchesPerEpoch: 1, loss: 0.07, accuracy: 1 }] } };
    expect(verdictLine(withHistory)).toBe('Over 3 seeds the MoE-CNN trails the dense CNN of the same active compute by 3.00 points (beyond two standard errors ±1.63) on test accuracy. It also fits its training images worse (last-epoch training loss 0.120 against 0.070): each expert trains on about 1/4 of the images, so at this size the extra capacity is not used yet.');
  });
});
