#!/usr/bin/env node
// Files a package publishes but the repository keeps once, at its root: the LICENSE, and for
// @moekit/core the contributor docs. npm packs only what lies inside the package folder, so a
// package's `prepack` copies them in and its `postpack` removes them again:
//
//   "prepack":  "node ../../scripts/pack-extras.mjs copy LICENSE=LICENSE ARCHITECTURE.md=docs/architecture.md",
//   "postpack": "node ../../scripts/pack-extras.mjs clean LICENSE=LICENSE ARCHITECTURE.md=docs/architecture.md"
//
// Each pair is `<name in the package>=<path from the repository root>`; it runs in the package's
// folder (npm runs lifecycle scripts there). Each name must also be in the package's `files`.
import { copyFileSync, existsSync, rmSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const [mode, ...pairs] = process.argv.slice(2);

function fail(message) {
  console.error(`pack-extras: ${message}`);
  process.exit(1);
}

if (mode !== 'copy' && mode !== 'clean') fail(`mode must be 'copy' or 'clean', got ${JSON.stringify(mode)}`);
if (pairs.length === 0) fail('no <name>=<path> pairs given');

const extras = pairs.map((pair) => {
  const [name, from, ...rest] = pair.split('=');
  if (!name || !from || rest.length > 0) fail(`expected <name>=<path from the repository root>, got ${JSON.stringify(pair)}`);
  // A name is a plain file name in the package folder: never a path that could delete elsewhere.
  if (basename(name) !== name || name === '..' || name === '.') fail(`the name must be a file name in the package folder, got ${JSON.stringify(name)}`);
  return { name, source: join(root, from) };
});

for (const { name, source } of extras) {
  if (mode === 'copy') {
    if (!existsSync(source)) fail(`${source} does not exist (for ${name})`);
    copyFileSync(source, name);
  } else {
    rmSync(name, { force: true });
  }
}
