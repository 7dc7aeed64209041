// Smoke test of the example ladder: every `NN-name.ts` beside this file runs at its quick size on wasm,
// prints its result and leaks no tensor.
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { expectNoLeakedTensors } from '@moekit/core/testing';
import { leaveWasmTestBackend, useWasmTestBackend } from '@moekit/platform/testing';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { findExample, listExamples } from './discover-modules.js';

const dir = dirname(fileURLToPath(import.meta.url));

beforeAll(useWasmTestBackend);
afterAll(leaveWasmTestBackend);

/** What each of this engineer's examples prints at its quick size (09 is checked by its own pattern when present). */
const expected: Record<string, RegExp> = {
  '01': /loss \d+\.\d{4} -> \d+\.\d{4} after 10 Adam steps; load per expert \[\d+, \d+, \d+, \d+\]/,
  '02': /custom router \+ bank: mse \d+\.\d{4} -> \d+\.\d{4} in 10 steps; gains \[-?\d\.\d\d, -?\d\.\d\d\]/,
  '03': /largest prediction difference 0 \(the restored model is the same function\)/,
  '04': /validation perplexity \d+\.\d over 1 epochs/,
  '05': /Switch Transformer block on Moby-Dick \(200 words, windows of 16\): validation perplexity \d+\.\d; last batch: load \[(\d+, ){7}\d+\]/,
  '06': /\| 0\.1 \| \d\.\d{4} \| \d+\.\d% \| \d\.\d{4} \| \d+\.\d% \|/,
  '07': /\| soft \| \d\.\d{4} \|[^\n]*\n\| hard \| \d\.\d{4} \|/,
  '08': /\| 50% \| 4 \|/,
  '10': /\| MoE: 2 heterogeneous hash experts \+ hash gate \| \d+ \| \d+\.\d\d \| \d+\.\d\d \|/,
  '11': /cross entropy \d\.\d{3} -> \d\.\d{3} nats\/char after 3 Adam steps\n.*reloaded: largest logit difference 0\ngreedy: "Call me Ishmael\. .{8,16}"/,
  '12': /\| dropout \| \d+\.\d{3} \| \d+\.\d{3} \| -?\d+\.\d{3} \| \[\d+, \d+, \d+, \d+\] \|\n\| eom \|[^\n]*\n\| fom \|[^\n]*\n\| cmr \| \d+\.\d{3} \|/,
  '13': /\| shared \| \d+ \| \d+\.\d \| \d\.\d\d \/ \d\.\d\d \|\n\| unshared \| \d+ \| \d+\.\d \|[^\n]*\n\| scmoe \| \d+ \| \d+\.\d \| \d\.\d\d \|\n\| top2 \| \d+ \| \d+\.\d \| \d\.\d\d \|/,
  '14': /cross entropy \d\.\d{3} -> \d\.\d{3} nats\/char after 3 Adam steps\nblock 0, held-out 4×16 tokens: attention router load \[(\d+, ){3}\d+\]; FFN router load \[(\d+, ){3}\d+\]/,
  '15': /\| attention \+ MoE \| att\+dense, att\+moe \| \d+ \| \d+\.\d \| \d\.\d{3} \| \[(\d+, ){3}\d+\] \|\n\| Sparse Mixer \| lin\+dense, lin\+moe \| \d+ \| \d+\.\d \| \d\.\d{3} \|/,
  '16': /\| SMoE \(E = 4, top-1\), RC loss \+ damping \| \d\.\d{4} \| \d\.\d{3} \| \d+ \| 9 \|[\s\S]*\| conv, equal active compute \(one 3 × 3 filter\) \| \d\.\d{4} \| — \|[\s\S]*gate map \(true regions left, learned right\): \S+\.png/,
  '17': /mixture of 3 models \(\d+ \/ \d+ \/ \d+ parameters\): loss \d+\.\d{4} -> \d+\.\d{4} after 5 epochs\nreloaded: largest prediction difference 0 \(the saved ensemble is the same function\)/,
  '18': /\| JEJR \| 1 \| 1 \| \d+\.\d{3} -> \d+\.\d{3} \| \[\d+, \d+, \d+, \d+\] \|\n\| JEDR \| 2 \| 1 \|[^\n]*\n\| DEDR \| 2 \| 2 \| \d+\.\d{3} -> \d+\.\d{3} \| \[\d+, \d+, \d+, \d+\] \[\d+, \d+, \d+, \d+\] \|/,
  '19': /\| top-2 \(TopKChoice\) \| \d+\.\d{3} -> \d+\.\d{3} \| \[(\d+, ){7}\d+\] \|\n\| k top-1, 2 prototypes \(KTop1Choice\) \|[^\n]*\n\| SAM, 2 groups, top-2 \(SwitchAndMixtureChoice\) \| \d+\.\d{3} -> \d+\.\d{3} \| \[(\d+, ){7}\d+\] \|/,
  '20': /\| expert \(2dh\) \| \d+\.\d{3} \|[\s\S]*recommended: expert \(2dh\)[\s\S]*\| tutel r=2 \(2dh\) \| \d+\.\d{3} \|[\s\S]*recommended: tutel r=2 \(2dh\)/,
};

describe('the example ladder (quick)', () => {
  it('finds the examples by their two-digit prefix', () => {
    const names = listExamples(dir);
    for (const nn of Object.keys(expected)) expect(names.some((n) => n.startsWith(`${nn}-`))).toBe(true);
    expect(findExample(dir, '01')).toBe('01-hello-moe.ts');
    expect(findExample(dir, '99')).toBeUndefined();
  });

  for (const file of listExamples(dir)) {
    const nn = file.slice(0, 2);
    it(`${file} runs at its quick size (twice) and leaks no tensor`, async () => {
      const log = vi.spyOn(console, 'log').mockImplementation(() => {});
      try {
        const module = (await import(join(dir, file))) as { run(options: { quick: boolean }): Promise<void> };
        await expectNoLeakedTensors(() => module.run({ quick: true })); // twice: the first primes lazily built constants
        const printed = log.mock.calls.map((c) => c.join(' ')).join('\n');
        expect(printed.length).toBeGreaterThan(0);
        if (expected[nn]) expect(printed).toMatch(expected[nn]!);
      } finally {
        log.mockRestore();
      }
    }, 180_000);
  }
});
