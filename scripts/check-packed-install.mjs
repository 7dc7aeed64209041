#!/usr/bin/env node
// Per-package installs are real: pack every library package with `npm pack`, install the tarballs
// into a scratch project outside the workspace (no symlinks, no source condition, no hoisted
// workspace deps), and run each package's `test/packed-smoke.mjs` there. A package that only works
// inside the monorepo (a missing `files` entry, a wrong `exports` map, an undeclared dependency) fails.
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const rootLock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8'));
const tfjsVersion = rootLock.packages['node_modules/@tensorflow/tfjs'].version;

const libraries = readdirSync(join(root, 'packages'))
  .map((dir) => join(root, 'packages', dir))
  .filter((dir) => existsSync(join(dir, 'package.json')))
  .map((dir) => ({ dir, manifest: JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) }))
  .filter(({ manifest }) => !manifest.private);

const scratch = mkdtempSync(join(tmpdir(), 'moekit-packed-'));
const tarballs = join(scratch, 'tarballs');
mkdirSync(tarballs);
const run = (cmd, args, cwd) => execFileSync(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });

let failed = 0;
try {
  const files = libraries.map(({ dir, manifest }) => {
    const [packed] = JSON.parse(run('npm', ['pack', '--json', '--pack-destination', tarballs], dir));
    console.log(`packed ${manifest.name}@${manifest.version}: ${packed.files.length} files, ${packed.size} bytes`);
    return join(tarballs, packed.filename);
  });
  writeFileSync(join(scratch, 'package.json'), JSON.stringify({ name: 'moekit-packed-check', private: true, type: 'module' }, null, 2));
  run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--ignore-scripts', '--loglevel=error', ...files, `@tensorflow/tfjs@${tfjsVersion}`], scratch);
  for (const { dir, manifest } of libraries) {
    const smoke = join(dir, 'test', 'packed-smoke.mjs');
    if (!existsSync(smoke)) {
      console.error(`FAIL ${manifest.name}: no test/packed-smoke.mjs`);
      failed++;
      continue;
    }
    const target = join(scratch, `${manifest.name.replace('/', '__')}.smoke.mjs`);
    copyFileSync(smoke, target);
    try {
      const out = run('node', [target], scratch);
      console.log(`ok   ${manifest.name}: ${out.trim()}`);
    } catch (error) {
      console.error(`FAIL ${manifest.name}: ${error.message}`);
      failed++;
    }
  }
} finally {
  if (failed === 0) rmSync(scratch, { recursive: true, force: true });
  else console.error(`scratch project kept for inspection: ${scratch}`);
}
console.log(`packed install: ${libraries.length - failed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
