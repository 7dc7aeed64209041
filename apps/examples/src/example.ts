/**
 * `npm run example -- NN [--quick]`: runs the ladder example whose file starts with `NN-` (01 … 20),
 * on the backend `selectBackend()` picks. `--quick` runs it at the tiny size the smoke test uses.
 */
import '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { selectBackend } from '@moekit/platform';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { findExample, listExamples } from './discover-modules.js';

const dir = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const quick = args.includes('--quick');
const rest = args.filter((a) => a !== '--quick');
const available = listExamples(dir).map((f) => f.replace(/\.js$/, '')).join(', ');
const fail = (message: string): never => {
  process.stderr.write(`moekit example: ${message}\nUsage: npm run example -- NN [--quick]   (NN: one of ${available})\n`);
  process.exit(2);
};
if (rest.length !== 1 || !/^\d\d?$/.test(rest[0]!)) fail(`expected one example number and optionally --quick, got '${args.join(' ')}'`);
const nn = rest[0]!.padStart(2, '0');
const file = findExample(dir, nn) ?? fail(`no example numbered ${nn}`);
const choice = await selectBackend();
console.log(`example ${file.replace(/\.js$/, '')}${quick ? ' (quick)' : ''}; backend ${choice.backend} (${choice.reason})\n`);
const module = (await import(pathToFileURL(join(dir, file)).href)) as { run(options: { quick: boolean }): Promise<void> };
await module.run({ quick });
