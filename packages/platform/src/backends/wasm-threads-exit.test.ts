// A Node process that runs threaded wasm must exit by itself: emscripten `ref()`s every running
// pthread worker, and a process holding a ref'd worker never ends. The child runs this package's
// TypeScript source through a small loader (TypeScript's transpileModule) rather than a build.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { expect, it } from 'vitest';

const require = createRequire(import.meta.url);
const packageRoot = fileURLToPath(new URL('../..', import.meta.url));
const typescriptUrl = pathToFileURL(require.resolve('typescript')).href;
const wasmThreadsUrl = new URL('./wasm-threads.ts', import.meta.url).href;

// Module hooks: `./x.js` imported from a .ts file resolves to `./x.ts` when that exists, and .ts
// files load as their transpiled ESM.
const hooks = `
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import ts from ${JSON.stringify(typescriptUrl)};
export async function resolve(specifier, context, next) {
  if (context.parentURL?.endsWith('.ts') && /^\\.\\.?\\//.test(specifier) && specifier.endsWith('.js')) {
    const candidate = new URL(specifier.slice(0, -3) + '.ts', context.parentURL);
    if (existsSync(fileURLToPath(candidate))) return { url: candidate.href, shortCircuit: true };
  }
  return next(specifier, context);
}
export async function load(url, context, next) {
  if (!url.endsWith('.ts')) return next(url, context);
  const { outputText } = ts.transpileModule(readFileSync(fileURLToPath(url), 'utf8'), {
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
  });
  return { format: 'module', source: outputText, shortCircuit: true };
}`;
const registerHooks = `import { register } from 'node:module'; register(${JSON.stringify(
  `data:text/javascript,${encodeURIComponent(hooks)}`,
)});`;

// The child: threaded wasm, one matMul, then nothing — no exit(), no dispose, workers still alive.
const child = `
import * as tf from '@tensorflow/tfjs-core';
const { initWasmBackend } = await import(${JSON.stringify(wasmThreadsUrl)});
const info = await initWasmBackend({ threads: 2 });
const product = tf.matMul(tf.ones([64, 32]), tf.ones([32, 16])); // every entry sums 32 ones
console.log(JSON.stringify({ backend: tf.getBackend(), threads: info.threads, first: product.dataSync()[0] }));`;

/** Runs the child; resolves with its exit code, signal, stdout and how long it took. */
function runChild(timeoutMs: number): Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string; ms: number }> {
  const started = Date.now();
  const proc = spawn(
    process.execPath,
    ['--import', `data:text/javascript,${encodeURIComponent(registerHooks)}`, '--input-type=module', '-e', child],
    { cwd: packageRoot, timeout: timeoutMs, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stdout = '';
  let stderr = '';
  proc.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  proc.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    proc.on('error', reject);
    proc.on('close', (code, signal) => resolve({ code, signal, stdout, stderr, ms: Date.now() - started }));
  });
}

it('lets a Node process running 2 wasm threads exit on its own, with code 0', async () => {
  const timeoutMs = 20_000; // a normal run takes 1–3 s; a hung one is killed (SIGTERM) at the limit
  const result = await runChild(timeoutMs);
  expect(result.stderr).toBe('');
  expect(result.signal).toBeNull();
  expect(result.code).toBe(0);
  expect(result.ms).toBeLessThan(timeoutMs);
  expect(JSON.parse(result.stdout)).toEqual({ backend: 'wasm', threads: 2, first: 32 });
}, 30_000);
