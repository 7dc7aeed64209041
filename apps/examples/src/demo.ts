/**
 * `npm run demo`: trains an MoE-CNN on real MNIST beside a dense CNN of the same active compute, shows
 * a progress bar (loss, accuracy, per-expert load), prints a summary table and writes a self-contained
 * HTML report. `npm run demo -- --help` lists the options.
 */
import '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { selectBackend } from '@moekit/platform';
import { writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { DemoOptionsError, demoConstraint, demoHelp, parseDemoOptions, routerLabel, type DemoOptions } from './demo/demo-options.js';
import { demoReportHtml } from './demo/demo-report-html.js';
import { checkReportPath } from './demo/report-path.js';
import { runDemo } from './demo/run-demo.js';
import { summaryTable, verdictLine } from './demo/summary-table.js';

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

const started = performance.now();
const choice = await selectBackend();
const machine = `${cpus().length} cores, ${cpus()[0]?.model ?? 'unknown CPU'}`;
const o = options;
console.log(`moekit demo: MNIST, ${o.experts} conv experts (${routerLabel(o)}, capacity factor ${o.capacityFactor} (test ${o.evalCapacityFactor === 'auto' ? 'auto: dropless on cpu/wasm' : o.evalCapacityFactor}), ${demoConstraint(o)} constraint) vs a dense CNN of the same active compute`);
console.log(`${o.trainSize} training images x ${o.epochs} epochs, ${o.testSize} test images, ${o.seeds === 1 ? 'one seed' : `${o.seeds} seeds`}; backend ${choice.backend} (${choice.reason}); ${machine}\n`);
const result = runDemo(o, `${choice.backend} (${choice.reason})`, machine, process.stdout);
const table = summaryTable(result);
console.log(`\n${table}\n`);
console.log(verdictLine(result));
console.log(`expert x class on the test images: I(E; C) = ${result.matrix.mutualInformation.toFixed(3)} bits, load ${result.matrix.load.map((l) => l.toFixed(2)).join(' ')}`);
writeFileSync(reportPath, demoReportHtml(result, result.matrix));
console.log(`report: ${reportPath} (open it in a browser; it needs no network)`);
console.log(`total ${((performance.now() - started) / 1000).toFixed(1)} s`);
