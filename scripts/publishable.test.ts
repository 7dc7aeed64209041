// What npm shows of every library package, checked on the manifests and READMEs (issue 18,
// "Publishable"): the licence and its text in the tarball, the Node range, keywords, a README whose
// links work on npmjs.com, and a prepublishOnly that builds. `npm run release:check` checks the
// real tarballs; these tests keep the declarations honest without packing.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
// @ts-expect-error -- a plain .mjs script without type declarations
import { problemsOf } from './publish-dry-run.mjs';

const root = join(import.meta.dirname, '..');

interface Manifest {
  name: string;
  private?: boolean;
  license?: string;
  engines?: Record<string, string>;
  keywords?: string[];
  files?: string[];
  scripts?: Record<string, string>;
}

const libraries = readdirSync(join(root, 'packages'))
  .filter((name) => existsSync(join(root, 'packages', name, 'package.json')))
  .map((name) => ({ name, dir: join(root, 'packages', name), manifest: JSON.parse(readFileSync(join(root, 'packages', name, 'package.json'), 'utf8')) as Manifest }))
  .filter(({ manifest }) => manifest.private !== true);

/** The `<name>=<path>` pairs a package's prepack copies in, as a map name → repository path. */
function prepackCopies(manifest: Manifest): Map<string, string> {
  const match = /^node \.\.\/\.\.\/scripts\/pack-extras\.mjs copy (.+)$/.exec(manifest.scripts?.['prepack'] ?? '');
  return new Map((match?.[1] ?? '').split(' ').filter(Boolean).map((pair) => pair.split('=') as [string, string]));
}

describe('the repository LICENSE', () => {
  it('is the Apache License 2.0 text, terms and appendix', () => {
    const text = readFileSync(join(root, 'LICENSE'), 'utf8');
    expect(text).toContain('Apache License\n                           Version 2.0, January 2004');
    expect(text).toContain('END OF TERMS AND CONDITIONS');
    expect(text.match(/^\s+\d+\. [A-Z][^.]*\./gm)?.length).toBe(9); // sections 1 (Definitions) … 9 (Accepting Warranty)
  });
});

describe('every library package is publishable', () => {
  it('the private packages are only datasets (the rest publish)', () => {
    const privates = readdirSync(join(root, 'packages')).filter((name) => existsSync(join(root, 'packages', name, 'package.json')) && !libraries.some((lib) => lib.name === name));
    expect(privates).toEqual(['datasets']);
    expect(libraries.length).toBeGreaterThan(10); // every other package publishes
  });

  for (const { name, dir, manifest } of libraries) {
    describe(manifest.name, () => {
      it('declares Apache-2.0, Node >= 20 and keywords a tfjs user searches for', () => {
        expect(manifest.license).toBe('Apache-2.0');
        expect(manifest.engines).toEqual({ node: '>=20' });
        expect(manifest.keywords).toEqual(expect.arrayContaining(['mixture-of-experts', 'moe', 'tfjs', 'tensorflow']));
      });

      it('publishes the LICENSE: listed in files, copied in by prepack from the root, removed by postpack', () => {
        const copies = prepackCopies(manifest);
        expect(copies.get('LICENSE')).toBe('LICENSE');
        for (const [copied, from] of copies) {
          expect(manifest.files, `${copied} is copied in but not in files`).toContain(copied);
          expect(existsSync(join(root, from)), `${from} (copied to ${copied}) exists`).toBe(true);
        }
        expect(manifest.scripts?.['postpack']).toBe(manifest.scripts?.['prepack']?.replace(' copy ', ' clean '));
      });

      it('builds before publishing and ships no tests or build caches', () => {
        expect(manifest.scripts?.['prepublishOnly']).toBe('nx build --output-style=static');
        expect(manifest.files).toEqual(expect.arrayContaining(['dist', '!dist/**/*.test.*', '!dist/**/*.tsbuildinfo']));
      });

      it('has a README whose links work on npmjs.com (none leaves the package)', () => {
        const readme = readFileSync(join(dir, 'README.md'), 'utf8');
        expect(readme.startsWith(`# ${manifest.name}`), `${name}/README.md starts with its name`).toBe(true);
        // A relative link resolves against the package on npm: `../` has nowhere to go there.
        expect([...readme.matchAll(/\]\((\.\.\/[^)]*)\)/g)].map((m) => m[1])).toEqual([]);
        const relative = [...readme.matchAll(/\]\((?!https?:|#|mailto:)([^)\s]+)\)/g)].map((m) => m[1]!);
        for (const target of relative) expect(existsSync(join(dir, target.split('#')[0]!)), `${name}/README.md links ${target}`).toBe(true);
      });
    });
  }

  it('@moekit/core ships the architecture and the tfjs notes the READMEs link on unpkg', () => {
    const core = libraries.find((lib) => lib.name === 'core')!;
    expect(Object.fromEntries(prepackCopies(core.manifest))).toEqual({ LICENSE: 'LICENSE', 'ARCHITECTURE.md': 'docs/architecture.md', 'tfjs-notes.md': 'docs/tfjs-notes.md' });
    const linked = new Set(libraries.flatMap(({ dir }) => [...readFileSync(join(dir, 'README.md'), 'utf8').matchAll(/https:\/\/unpkg\.com\/@moekit\/core\/([^)\s]+)/g)].map((m) => m[1]!)));
    expect([...linked].sort()).toEqual(['ARCHITECTURE.md', 'tfjs-notes.md']);
  });
});

describe('the root README', () => {
  it('links only to files in the repository (no ../ paths) and to the release steps', () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const relative = [...readme.matchAll(/\]\((?!https?:|#|mailto:)([^)\s]+)\)/g)].map((m) => m[1]!.split('#')[0]!);
    expect(relative.filter((target) => target.startsWith('../') || !existsSync(join(root, target)))).toEqual([]);
    expect(relative).toContain('docs/releasing.md');
  });
});

describe('scripts/pack-extras.mjs', () => {
  const script = join(root, 'scripts', 'pack-extras.mjs');

  it('copies the root LICENSE into the package folder, then removes it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'wt-pub-pack-extras-'));
    try {
      execFileSync('node', [script, 'copy', 'LICENSE=LICENSE'], { cwd: dir });
      expect(readFileSync(join(dir, 'LICENSE'), 'utf8')).toBe(readFileSync(join(root, 'LICENSE'), 'utf8'));
      execFileSync('node', [script, 'clean', 'LICENSE=LICENSE'], { cwd: dir });
      expect(existsSync(join(dir, 'LICENSE'))).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('rejects a name that is a path, a missing source and an unknown mode, naming each', () => {
    const dir = mkdtempSync(join(tmpdir(), 'wt-pub-pack-extras-'));
    try {
      writeFileSync(join(dir, 'keep'), 'x');
      const run = (...args: string[]) => spawnSync('node', [script, ...args], { cwd: dir, encoding: 'utf8' });
      expect(run('clean', '../keep=LICENSE').stderr).toContain('the name must be a file name in the package folder, got "../keep"');
      expect(existsSync(join(dir, 'keep'))).toBe(true);
      expect(run('copy', 'X=docs/missing.md').stderr).toMatch(/docs\/missing\.md does not exist \(for X\)/);
      expect(run('move', 'LICENSE=LICENSE').stderr).toContain(`mode must be 'copy' or 'clean', got "move"`);
      expect(run('copy').status).toBe(1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('scripts/publish-dry-run.mjs judges a dry run', () => {
  const dir = mkdtempSync(join(tmpdir(), 'wt-pub-dry-run-')); // an empty package folder: no README, no leftovers
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const manifest = { name: '@moekit/x', scripts: { prepack: 'node ../../scripts/pack-extras.mjs copy LICENSE=LICENSE ARCHITECTURE.md=docs/architecture.md' }, exports: { '.': { '@moekit/source': './src/index.ts', types: './dist/index.d.ts', default: './dist/index.js' } } };
  const report = (paths: string[]) => `> prepack\n\n{\n  "@moekit/x": ${JSON.stringify({ files: paths.map((path) => ({ path })) })}\n}\n`;
  const good = ['LICENSE', 'ARCHITECTURE.md', 'README.md', 'package.json', 'dist/index.d.ts', 'dist/index.js', 'src/index.ts'];
  const notLoggedIn = 'npm warn publish This command requires you to be logged in to https://registry.npmjs.org/ (dry-run)\n';

  it('passes a clean tarball, ignoring the dry run\'s "not logged in" warning', () => {
    expect(problemsOf({ dir, manifest }, { status: 0, stdout: report(good), stderr: notLoggedIn })).toEqual([]);
  });

  it('ignores npm\'s "unknown config" note on the repository\'s onnxruntime-node-install key', () => {
    const unknown = 'npm warn Unknown project config "onnxruntime-node-install". This will stop working in the next major version of npm.\nnpm warn Unknown env config "onnxruntime-node-install". This will stop working in the next major version of npm.\n';
    expect(problemsOf({ dir, manifest }, { status: 0, stdout: report(good), stderr: notLoggedIn + unknown })).toEqual([]);
    expect(problemsOf({ dir, manifest }, { status: 0, stdout: report(good), stderr: 'npm warn Unknown project config "other-key".\n' })).toEqual(['npm warn Unknown project config "other-key".']);
  });

  it('names each problem: a warning, a missing LICENSE, prepack copy and exports target, a published test and build cache, a leftover copy', () => {
    writeFileSync(join(dir, 'ARCHITECTURE.md'), 'left behind');
    const stdout = report(['README.md', 'package.json', 'dist/index.js', 'dist/a.test.js', 'dist/tsconfig.lib.tsbuildinfo']);
    const stderr = `${notLoggedIn}npm warn publish npm auto-corrected some errors in your package.json when publishing.\n`;
    expect(problemsOf({ dir, manifest }, { status: 0, stdout, stderr })).toEqual([
      'npm warn publish npm auto-corrected some errors in your package.json when publishing.',
      'LICENSE is not in the tarball',
      'ARCHITECTURE.md is not in the tarball',
      'exports target ./dist/index.d.ts is not in the tarball',
      'dist/a.test.js should not be published',
      'dist/tsconfig.lib.tsbuildinfo should not be published',
      `ARCHITECTURE.md was left in ${dir} (postpack did not run?)`,
    ]);
    rmSync(join(dir, 'ARCHITECTURE.md'));
  });

  it('fails a run where npm failed and printed no report', () => {
    expect(problemsOf({ dir, manifest }, { status: 1, stdout: 'tsc failed', stderr: 'npm error code 1\n' })).toEqual(['npm publish --dry-run exited with 1', 'npm error code 1', 'no JSON report from npm']);
  });
});
