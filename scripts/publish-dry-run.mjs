#!/usr/bin/env node
// `npm publish --dry-run` for every library package, as the release would run it (prepublishOnly
// builds, prepack copies the LICENSE in, postpack removes it), failing on what would make a bad
// release: npm failing or warning (bar the "not logged in" of a dry run), a tarball without its
// LICENSE, README or an `exports` target, with tests or build caches in it, a README linking outside
// the package (`../` breaks on npm), or a prepack copy left behind in the working tree.
// Usage: node scripts/publish-dry-run.mjs [package folder name …] (default: every library package).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const only = process.argv.slice(2);

const libraries = readdirSync(join(root, 'packages'))
  .filter((name) => only.length === 0 || only.includes(name))
  .map((name) => ({ name, dir: join(root, 'packages', name) }))
  .filter(({ dir }) => existsSync(join(dir, 'package.json')))
  .map((lib) => ({ ...lib, manifest: JSON.parse(readFileSync(join(lib.dir, 'package.json'), 'utf8')) }))
  .filter(({ manifest }) => !manifest.private);

const unknown = only.filter((name) => !libraries.some((lib) => lib.name === name));
if (unknown.length > 0) {
  console.error(`publish dry run: no library package folder named ${unknown.join(', ')}`);
  process.exit(1);
}

/**
 * npm's warnings that say nothing about the package: a dry run is never logged in; and npm 11 names
 * the repository's `.npmrc` key `onnxruntime-node-install=skip` (read by onnxruntime-node's install
 * script, not by npm) as unknown config in every command.
 */
const harmless = [/requires you to be logged in .*\(dry-run\)/, /Unknown (env|project) config "onnxruntime-node-install"/];

/** Every file an `exports` map points at, bar the workspace-only source condition. */
function exportTargets(exports) {
  if (typeof exports === 'string') return [exports];
  if (exports === null || typeof exports !== 'object') return [];
  return Object.entries(exports).flatMap(([key, value]) => (key === '@moekit/source' ? [] : exportTargets(value)));
}

/** The problems in one package's dry run: an empty list when it would publish cleanly. */
export function problemsOf({ dir, manifest }, { status, stdout, stderr }) {
  const problems = [];
  if (status !== 0) problems.push(`npm publish --dry-run exited with ${status}`);
  for (const line of stderr.split('\n')) {
    if (/^npm (warn|error|ERR!)/i.test(line) && !harmless.some((pattern) => pattern.test(line))) problems.push(line.trim());
  }
  // Lifecycle scripts print before npm's JSON; the JSON is the object keyed by the package's name.
  const start = stdout.indexOf(`{\n  ${JSON.stringify(manifest.name)}`);
  if (start < 0) return [...problems, 'no JSON report from npm'];
  const report = JSON.parse(stdout.slice(start))[manifest.name];
  const packed = new Set(report.files.map((file) => file.path));
  // What prepack copies in (`<name>=<path>` pairs of scripts/pack-extras.mjs) must be packed too.
  const copied = [...(manifest.scripts?.prepack ?? '').matchAll(/(\S+)=\S+/g)].map((m) => m[1]);
  for (const required of new Set(['LICENSE', 'README.md', 'package.json', ...copied])) {
    if (!packed.has(required)) problems.push(`${required} is not in the tarball`);
  }
  for (const target of exportTargets(manifest.exports)) {
    if (!packed.has(target.replace(/^\.\//, ''))) problems.push(`exports target ${target} is not in the tarball`);
  }
  for (const path of packed) {
    if (/\.(test|fixture)\.|\.tsbuildinfo$/.test(path)) problems.push(`${path} should not be published`);
  }
  const readme = existsSync(join(dir, 'README.md')) ? readFileSync(join(dir, 'README.md'), 'utf8') : '';
  for (const [link] of readme.matchAll(/\]\(\.\.\/[^)]*\)/g)) problems.push(`README link ${link} leaves the package (broken on npm)`);
  for (const name of copied) {
    if (existsSync(join(dir, name))) problems.push(`${name} was left in ${dir} (postpack did not run?)`);
  }
  return problems;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  // Build everything once, so each package's prepublishOnly build is a cache hit.
  execFileSync('npx', ['nx', 'run-many', '-t', 'build', '--output-style=static'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
  let failed = 0;
  for (const lib of libraries) {
    const result = spawnSync('npm', ['publish', '--dry-run', '--json'], { cwd: lib.dir, encoding: 'utf8' });
    const problems = problemsOf(lib, result);
    if (problems.length === 0) {
      const start = result.stdout.indexOf(`{\n  ${JSON.stringify(lib.manifest.name)}`);
      const report = JSON.parse(result.stdout.slice(start))[lib.manifest.name];
      console.log(`ok   ${lib.manifest.name}@${lib.manifest.version}: ${report.entryCount} files, ${report.size} bytes packed`);
    } else {
      failed++;
      console.error(`FAIL ${lib.manifest.name}:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    }
  }
  console.log(`publish dry run: ${libraries.length - failed} passed, ${failed} failed`);
  process.exit(failed === 0 ? 0 : 1);
}
