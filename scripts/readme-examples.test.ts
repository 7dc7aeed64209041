// The first examples a reader meets (the root README, each package README) must run as written and
// print what their comments say. Every code block marked `<!-- readme-example: name … -->` is run
// here: its TypeScript transpiled, its imports resolved as a user's would be (the packages' sources),
// and each `console.log(…); // expected` line checked against its comment (up to a ` (` aside).
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const root = new URL('../', import.meta.url);
const readmes = ['README.md', ...readdirSync(new URL('packages/', root)).map((p) => `packages/${p}/README.md`)].filter((p) => existsSync(new URL(p, root)));

interface Example { file: string; name: string; code: string }

/** Every marked block: the marker names it, the fenced ts block right after it is the code. */
function examples(): Example[] {
  const found: Example[] = [];
  for (const file of readmes) {
    const text = readFileSync(new URL(file, root), 'utf8');
    for (const m of text.matchAll(/<!-- readme-example: ([\w-]+)[^>]*-->\n```ts\n([\s\S]*?)```/g)) found.push({ file, name: m[1]!, code: m[2]! });
  }
  return found;
}

/** Prints as a reader expects a comment to: arrays as `[a, b]`, null as `null`. */
function format(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(format).join(', ')}]`;
  return String(value);
}

/** Runs the example with its imports resolved from here and returns the lines it logged. */
async function run(code: string): Promise<string[]> {
  const js = ts.transpileModule(code, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } }).outputText
    .replace(/^import \* as (\w+) from '([^']+)';$/gm, "const $1 = await __import('$2');")
    .replace(/^import \{([^}]+)\} from '([^']+)';$/gm, (_, names: string, spec: string) => `const {${names.replace(/ as /g, ': ')}} = await __import('${spec}');`)
    .replace(/^export \{\};$/gm, '');
  const logged: string[] = [];
  const log = (...args: unknown[]) => logged.push(args.map(format).join(' '));
  const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor as new (...args: string[]) => (...a: unknown[]) => Promise<void>;
  await new AsyncFunction('__import', 'console', js)((spec: string) => import(/* @vite-ignore */ spec), { ...console, log });
  return logged;
}

/** The comments of the example's `console.log(…); // …` lines, up to a ` (` aside. */
function expectedLines(code: string): string[] {
  return [...code.matchAll(/^\s*console\.log\(.*\); \/\/ (.*)$/gm)].map((m) => m[1]!.split(' (')[0]!.trim());
}

describe('README examples run and print what they say', () => {
  const all = examples();
  it('finds the marked examples of the root and core READMEs', () => {
    expect(all.map((e) => `${e.file}:${e.name}`)).toEqual(expect.arrayContaining(['README.md:root-sequential', 'README.md:root-functional', 'packages/core/README.md:core-using-it']));
  });
  for (const example of all) {
    it(`${example.file}: ${example.name}`, async () => {
      const logged = await run(example.code);
      expect(logged).toEqual(expectedLines(example.code));
    }, 60_000);
  }
});
