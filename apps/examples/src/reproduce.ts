/**
 * `npm run reproduce -- <name>|all [--quick]`: runs the reproductions in `reproductions/` (each a
 * paper's headline claim at a scale this machine can run) and prints their markdown sections, which
 * RESULTS.md holds verbatim.
 */
import '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { selectBackend } from '@moekit/platform';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { listReproductions } from './discover-modules.js';

const dir = join(dirname(fileURLToPath(import.meta.url)), 'reproductions');
const args = process.argv.slice(2);
const quick = args.includes('--quick');
const rest = args.filter((a) => a !== '--quick');
const available = listReproductions(dir);
const fail = (message: string): never => {
  process.stderr.write(`moekit reproduce: ${message}\nUsage: npm run reproduce -- <name>|all [--quick]   (name: one of ${available.join(', ')})\n`);
  process.exit(2);
};
if (rest.length !== 1) fail(`expected one reproduction name or 'all', got '${args.join(' ')}'`);
const names = rest[0] === 'all' ? available : [rest[0]!];
for (const name of names) if (!available.includes(name)) fail(`no reproduction named '${name}'`);
const choice = await selectBackend();
process.stderr.write(`backend ${choice.backend} (${choice.reason})\n`);
for (const name of names) {
  const file = join(dir, `${name}.js`);
  const module = (await import(pathToFileURL(file).href)) as { run(options: { quick: boolean }): Promise<string> };
  console.log(`${await module.run({ quick })}\n`);
}
