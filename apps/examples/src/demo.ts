/**
 * `npm run demo`: trains an MoE-CNN on real MNIST beside a dense CNN of the same active compute, shows
 * a progress bar fitted to the terminal (loss, accuracy, per-expert load), prints a summary table, the
 * verdict and one sentence per anomaly, and writes a self-contained HTML report. `npm run demo -- --help`
 * lists the options.
 */
import '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { selectBackend } from '@moekit/platform';
import { writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { DemoOptionsError, demoConstraint, demoHelp, parseDemoOptions, routerLabel, type DemoOptions } from './demo/demo-options.js';
import { demoAnomalies } from './demo/demo-anomalies.js';
import { demoReportHtml } from './demo/demo-report-html.js';
import { wrapWords } from './demo/option-table.js';
import { DEFAULT_COLUMNS } from './demo/progress-bar.js';
import { checkReportPath } from './demo/report-path.js';
import { runDemo } from './demo/run-demo.js';
import { summaryForTerminal, summaryTable, verdictLine } from './demo/summary-table.js';

let options: DemoOptions;
let reportPath = '';
try {
  options = parseDemoOptions(process.argv.slice(2));
  // before minutes of training, not after: a report that cannot be written is a bad option
  if (!options.help) reportPath = checkReportPath(options.report);
} catch (error) {
  if (!(error instanceof DemoOptionsError)) throw error;
  process.stderr.write(`moekit demo: ${error.message}\nRun 'npm run demo -- --help' for the options.\n`);
  process.exit(2);
}
if (options.help) {
  console.log(demoHelp);
  process.exit(0);
}

/** Prose wrapped at word boundaries to the terminal's width (a pipe or a log gets it unwrapped); `indent` hangs the lines after the first. */
const say = (text: string, indent = '') => {
  if (!process.stdout.isTTY) return console.log(text);
  const lines = wrapWords(text, (process.stdout.columns || DEFAULT_COLUMNS) - 1 - indent.length);
  console.log(lines.map((l, i) => (i === 0 ? l : `${indent}${l}`)).join('\n'));
};

const started = performance.now();
const choice = await selectBackend();
const machine = `${cpus().length} cores, ${cpus()[0]?.model ?? 'unknown CPU'}`;
const o = options;
say(`moekit demo: MNIST, ${o.experts} conv experts (${routerLabel(o)}, capacity factor ${o.capacityFactor} (test ${o.evalCapacityFactor === 'auto' ? 'auto: dropless on cpu/wasm' : o.evalCapacityFactor}), ${demoConstraint(o)} constraint) vs a dense CNN of the same active compute`);
say(`${o.trainSize} training images x ${o.epochs} epochs, ${o.testSize} test images, ${o.seeds === 1 ? 'one seed' : `${o.seeds} seeds`}; backend ${choice.backend} (${choice.reason}); ${machine}`);
console.log();
const result = runDemo(o, `${choice.backend} (${choice.reason})`, machine, process.stdout);
// a log or a pipe gets the markdown table; a terminal narrower than it gets the table on its side
const table = process.stdout.isTTY ? summaryForTerminal(result, process.stdout.columns || DEFAULT_COLUMNS) : summaryTable(result);
console.log(`\n${table}\n`);
say(verdictLine(result));
const anomalies = demoAnomalies(result);
if (anomalies.length > 0) {
  console.log('\nanomalies:');
  for (const anomaly of anomalies) say(`- ${anomaly}`, '  ');
}
say(`expert x class on the test images: I(E; C) = ${result.matrix.mutualInformation.toFixed(3)} bits, load ${result.matrix.load.map((l) => l.toFixed(2)).join(' ')}`);
writeFileSync(reportPath, demoReportHtml(result, result.matrix));
say(`report: ${reportPath} (open it in a browser; it needs no network)`);
console.log(`total ${((performance.now() - started) / 1000).toFixed(1)} s`);
