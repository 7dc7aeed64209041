// The demo end to end at a tiny size on wasm (as `npm run demo` runs it): training records, the summary
// table, and a report that needs no network.
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { leaveWasmTestBackend, useWasmTestBackend } from '@moekit/platform/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoDefaults } from './demo-options.js';
import { demoReportHtml } from './demo-report-html.js';
import { runDemo } from './run-demo.js';
import { summaryTable } from './summary-table.js';

beforeAll(useWasmTestBackend);
afterAll(leaveWasmTestBackend);

describe('the demo at a tiny size', () => {
  it('trains both models, fills the table and writes a self-contained report', () => {
    const lines: string[] = [];
    const options = { ...demoDefaults, router: 'topk' as const, trainSize: 100, testSize: 100, epochs: 2, experts: 3, k: 2, constraint: 'hard' as const };
    runDemo(options, 'wasm', 'test machine', { write: () => {}, isTTY: false }); // primes lazily built constants
    const before = tf.memory().numTensors;
    const result = runDemo(options, 'wasm', 'test machine', { write: (t: string) => lines.push(t), isTTY: false });
    expect(tf.memory().numTensors).toBe(before);
    // 100 images / batch 50 = 2 steps per epoch; a non-terminal stream gets one line per model and epoch
    expect(result.moe.history).toHaveLength(4);
    expect(result.dense.history).toHaveLength(4);
    expect(lines).toHaveLength(4);
    // each epoch ends with the test images routed as at evaluation: accuracy and each expert's share
    // a plain line (no bar, no escape, nothing cut), the labels padded to one width
    expect(lines[0]).toMatch(/^MoE-CNN   epoch 1\/2 loss \d\.\d{4} acc \d\.\d{3} load \d+\.\d% \d+\.\d% \d+\.\d% \| test acc \d\.\d{3} load \d+\.\d% \d+\.\d% \d+\.\d%( dropped \d+)?\n$/);
    expect(lines[2]).toMatch(/^dense CNN epoch 1\/2 loss \d\.\d{4} acc \d\.\d{3} \| test acc \d\.\d{3}\n$/);
    expect(result.moe.epochs.map((t) => t.epoch)).toEqual([0, 1]);
    expect(result.moe.epochs[1]!.accuracy).toBe(result.moe.accuracy);
    for (const t of [...result.moe.epochs, ...result.dense.epochs]) expect(t.loss).toBeGreaterThan(0); // the test cross-entropy, for the test curve beside the training loss
    expect(result.moe.testLoad!.reduce((a, b) => a + b, 0) + result.moe.testDropped).toBe(100 * 2); // every test image asks k = 2 experts
    expect(result.moe.testDropped).toBe(0); // evaluation is dropless on wasm ('auto')
    expect(result.seeds).toBeUndefined();
    for (const step of result.moe.history) expect(step.load!.reduce((a, b) => a + b, 0) + step.dropped!).toBe(50 * 2); // k = 2 choices per image
    expect(result.matrix.total).toBe(100);
    expect(result.moe.accuracy).toBeGreaterThanOrEqual(0);
    expect(result.moe.accuracy).toBeLessThanOrEqual(1);
    // active parameters: all but E − k of the E experts; the dense model's k blocks are the same shape as k experts
    const oneExpert = result.moe.parameters - result.moe.activeParameters; // E − k = 1 expert not visited
    const stemAndHead = 3 * 3 * 16 + 49 * 16 * 10 + 10;
    expect(result.dense.parameters).toBe(stemAndHead + 2 * oneExpert);
    // the MoE's extra active parameters are its gate: conv 3·3·16·16 + 16, router W_g and W_noise 16·3 each
    expect(result.moe.activeParameters - result.dense.activeParameters).toBe(2320 + 96);
    const table = summaryTable(result);
    expect(table.split('\n')).toHaveLength(4);
    expect(table).toContain(`| MoE-CNN | ${result.moe.accuracy.toFixed(4)} | ${result.moe.parameters} |`);
    const html = demoReportHtml(result, result.matrix);
    expect(html.match(/<svg /g)).toHaveLength(5); // loss and accuracy (training and test), training load, evaluation load, expert × class
    expect(html).toContain(`<th scope="row">MoE-CNN</th><td>${result.moe.accuracy.toFixed(4)}</td>`); // the summary as an HTML table
    expect(html).toMatch(/One seed: the MoE-CNN scores \d+\.\d\d points (above|below) the dense CNN/);
    expect(html).not.toMatch(/<script|<link|\bsrc=|href=|url\(/); // nothing to fetch
    expect(html.replace(/xmlns="http:\/\/www\.w3\.org\/2000\/svg"/g, '')).not.toContain('http');
  });
});
