import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { MixtureOfExperts, requireCapability, type Router } from '@moekit/core';
import { expectNoLeakedTensors, LinearExpertBank, LinearTopKRouter } from '@moekit/core/testing';
import { formatPruningReport } from './format-pruning-report.js';
import { countParameters, pruningReport, type PruningReportRow } from './pruning-report.js';

function smallMoE(): MixtureOfExperts {
  return new MixtureOfExperts({ router: new LinearTopKRouter({ inputDim: 3, numExperts: 4 }), experts: new LinearExpertBank({ numExperts: 4, inputDim: 3 }) });
}

describe('pruningReport', () => {
  it('one row per criterion and ratio, with kept experts and parameter counts', async () => {
    const moe = smallMoE();
    const pretrained = requireCapability(moe.router, 'selectExperts', 'test', 'router').selectExperts([0, 1, 2, 3]) as Router;
    const x = tf.randomNormal([16, 3]);
    const seen: number[] = [];
    const rows = await pruningReport({
      model: moe,
      ratios: [0, 0.5],
      criteria: ['routerChange', 'weightNorm'],
      pretrainedRouter: pretrained,
      calibration: x,
      otherParameters: 10,
      evaluate: (pruned) => {
        seen.push(pruned.numExperts);
        return pruned.numExperts / 4;
      },
    });
    // parameters: router 3·E + experts E·3·3, plus 10: E = 4 → 12 + 36 + 10 = 58; E' = 2 → 6 + 18 + 10 = 34
    expect(rows.map(({ criterion, ratio, keptExperts, accuracy, parameters }) => [criterion, ratio, keptExperts, accuracy, parameters])).toEqual([
      ['routerChange', 0, 4, 1, 58],
      ['routerChange', 0.5, 2, 0.5, 34],
      ['weightNorm', 0, 4, 1, 58],
      ['weightNorm', 0.5, 2, 0.5, 34],
    ]);
    expect(seen).toEqual([4, 2, 4, 2]);
    expect(rows[1]!.kept).toEqual([0, 1]); // nothing changed: all Δ = 0, ties keep the lower indices
    expect(countParameters(moe)).toBe(48);
    await expectNoLeakedTensors(() => pruningReport({ model: moe, ratios: [0.5], criteria: ['importance'], calibration: x, evaluate: () => 0 }));
    await expect(pruningReport({ model: moe, ratios: [1], evaluate: () => 0 })).rejects.toThrow("pruningReport: argument 'ratio' expected a number in [0, 1) (the fraction of experts pruned), got 1");
    await expect(pruningReport({ model: moe, ratios: [], evaluate: () => 0 })).rejects.toThrow("pruningReport: argument 'ratios' expected a non-empty array of ratios in [0, 1), got []");
    x.dispose();
    pretrained.dispose();
    moe.dispose();
  });
});

describe('formatPruningReport', () => {
  it('a markdown table, one row per ratio and one accuracy column per criterion', () => {
    const row = (criterion: PruningReportRow['criterion'], ratio: number, keptExperts: number, accuracy: number, parameters: number): PruningReportRow => ({ criterion, ratio, keptExperts, kept: [], accuracy, parameters });
    const rows = [row('routerChange', 0, 8, 0.9512, 1000), row('routerChange', 0.5, 4, 0.9, 600), row('random', 0, 8, 0.9512, 1000), row('random', 0.5, 4, 0.71234, 600)];
    expect(formatPruningReport(rows)).toBe([
      '| pruned | experts | parameters | routerChange | random |',
      '|---|---|---|---|---|',
      '| 0% | 8 | 1000 | 0.951 | 0.951 |',
      '| 50% | 4 | 600 | 0.900 | 0.712 |',
    ].join('\n'));
  });
});
