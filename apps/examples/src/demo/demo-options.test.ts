import { describe, expect, it } from 'vitest';
import { DemoOptionsError, demoDefaults, demoHelp, demoOptionRows, parseDemoOptions } from './demo-options.js';

describe('parseDemoOptions', () => {
  it('gives the defaults for no arguments', () => {
    expect(parseDemoOptions([])).toEqual(demoDefaults);
    expect(demoDefaults).toMatchObject({ router: 'sigmoid', experts: 4, k: 1, capacityFactor: 1.25, evalCapacityFactor: 'auto', constraint: 'auto', seeds: 1 });
  });

  it('reads every option, as "--name value" and "--name=value"', () => {
    const o = parseDemoOptions(['--router', 'switch', '--experts=8', '--capacity-factor', '0', '--eval-capacity-factor=1.5', '--constraint', 'hard', '--epochs', '2', '--train-size=500', '--test-size', '200', '--report', 'out.html', '--seed', '7', '--seeds=3']);
    expect(o).toEqual({ ...demoDefaults, router: 'switch', experts: 8, k: 1, capacityFactor: 0, evalCapacityFactor: 1.5, constraint: 'hard', epochs: 2, trainSize: 500, testSize: 200, report: 'out.html', seed: 7, seeds: 3 });
    expect(parseDemoOptions(['--eval-capacity-factor', 'auto']).evalCapacityFactor).toBe('auto');
    expect(parseDemoOptions(['--k', '2', '--experts', '4']).k).toBe(2);
    expect(parseDemoOptions(['--help']).help).toBe(true);
  });

  it('rejects bad options with a message naming the option, the expectation and the value', () => {
    const cases: [string[], string][] = [
      [['--routr', 'topk'], "unknown option '--routr' (see --help)"],
      [['--router', 'hashing'], "--router: expected one of topk, switch, cosine, sigmoid, expert-choice, soft-moe, base, hash, got 'hashing'"],
      [['--router', 'base', '--k', '2'], '--k: the base router chooses 1 expert per image, got 2'],
      [['--router', 'expert-choice', '--constraint', 'soft'], "--constraint: the expert-choice router balances by design; expected auto or none, got 'soft'"],
      [['--experts', '0'], "--experts: expected an integer in [1, 64], got '0'"],
      [['--experts', '2.5'], "--experts: expected an integer in [1, 64], got '2.5'"],
      [['--k', '5'], '--k: expected at most --experts (4), got 5'],
      [['--router', 'switch', '--k', '2'], '--k: the switch router chooses 1 expert per image, got 2'],
      [['--capacity-factor', '-1'], "--capacity-factor: expected a number >= 0 (0 = dropless), got '-1'"],
      [['--eval-capacity-factor', 'dropless'], "--eval-capacity-factor: expected a number >= 0 (0 = dropless) or 'auto', got 'dropless'"],
      [['--seeds', '0'], "--seeds: expected an integer in [1, 10], got '0'"],
      [['--constraint', 'both'], "--constraint: expected one of auto, none, soft, hard, got 'both'"],
      [['--epochs'], '--epochs: expected a value, got nothing'],
      [['--train-size', '50'], "--train-size: expected an integer in [100, 60000], got '50'"],
    ];
    for (const [argv, message] of cases) {
      expect(() => parseDemoOptions(argv)).toThrow(DemoOptionsError);
      expect(() => parseDemoOptions(argv)).toThrow(message);
    }
  });

  it('documents every option in --help', () => {
    for (const name of ['--router', '--experts', '--k', '--capacity-factor', '--eval-capacity-factor', '--constraint', '--epochs', '--train-size', '--test-size', '--report', '--seed', '--seeds', '--help']) {
      expect(demoHelp).toContain(name);
    }
  });

  it('shows every default in one column of a help that fits 80 columns', () => {
    const lines = demoHelp.split('\n');
    for (const line of lines) expect(line.length).toBeLessThanOrEqual(79);
    const column = lines.find((l) => l.includes('option') && l.includes('default'))!.indexOf('default');
    expect(column).toBe(28); // '  ' + '--eval-capacity-factor F' (24) + 2
    const shown: Record<string, string> = {};
    for (const row of demoOptionRows) {
      const line = lines.find((l) => l.startsWith(`  ${row.option} `) || l === `  ${row.option}`)!;
      shown[row.option.split(' ')[0]!] = line.slice(column).split(/\s{2,}/)[0]!;
    }
    expect(shown).toEqual({
      '--router': 'sigmoid', '--experts': '4', '--k': '1', '--capacity-factor': '1.25', '--eval-capacity-factor': 'auto', '--constraint': 'auto',
      '--epochs': '3', '--train-size': '12000', '--test-size': '2000', '--report': 'moekit-report.html', '--seed': '1', '--seeds': '1', '--help': '',
    });
    expect(shown['--router']).toBe(demoDefaults.router);
  });
});
