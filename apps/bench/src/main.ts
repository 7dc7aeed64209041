/**
 * `npm run bench`: moekit's MoE layer against the limit, the one-hot dispatch and a dense FFN, on wasm
 * (1 and 2 threads) and on cpu at a smaller size, each backend in its own process (a wasm backend's
 * thread count is fixed when it starts). Prints markdown tables; BENCHMARKS.md holds a measured run.
 *
 *   node apps/bench/dist/main.js                 # everything (tens of minutes on 2 cores)
 *   node apps/bench/dist/main.js --quick         # tiny sizes, 1 run: checks that every path works
 *   node apps/bench/dist/main.js --only wasm:2 --sections layer,experts --hidden 1024   # a part of it
 *   node apps/bench/dist/main.js --only wasm:2 --sections routers --experts 8,64        # every router against the limit
 *   node apps/bench/dist/main.js --child --backend wasm --threads 2 [--quick]   # one backend, JSON lines
 *   node apps/bench/dist/main.js --peer torch [--rounds 3] [--runs 5] [--experts 8,64] [--k 1,2]   # against PyTorch (peer-torch.ts)
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '@moekit/platform';
import { countHostReads } from '@moekit/core/testing';
import { benchRouters } from './bench-routers.js';
import { peerMoekitChild, peerOnnxChild } from './peer-moekit-child.js';
import { parsePeerArgs, runTorchPeer } from './peer-torch.js';
import { measure, measureSideBySide } from './measure.js';
import { denseStrategy, expertFlops, limitStrategy, moekitStrategy, oneHotStrategy, type BenchConfig, type Strategy } from './strategies.js';

interface Row {
  error?: string;
  backend: string;
  threads: number;
  section: 'layer' | 'experts' | 'matmul' | 'routers';
  config: BenchConfig;
  method: string;
  mode: 'forward' | 'train';
  ms: number;
  gflops: number;
  leaked: number;
  peakMB: number;
  /** tf.profile's peak (counts views and saved clones again), MB. */
  profileMB: number;
  /** Host reads (engine read/readSync) of one train step, per layout (routers section). */
  hostReads?: { padded: number; grouped: number };
  /** Median of the per-round time ratios against the limit, measured side by side (routers section). */
  ratio?: number;
}

const args = process.argv.slice(2);
const flag = (name: string) => args.includes(`--${name}`);
const option = (name: string, fallback: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1]! : fallback;
};

function layerConfigs(backend: string, quick: boolean): BenchConfig[] {
  if (quick) return [{ numTokens: 64, dim: 16, hidden: 32, numExperts: 4, k: 2, capacityFactor: 1.25 }];
  const size = backend === 'cpu' ? { numTokens: 1024, dim: 256, hiddens: [512] } : { numTokens: 4096, dim: 512, hiddens: [1024, 2048] };
  const configs: BenchConfig[] = [];
  for (const hidden of size.hiddens) {
    for (const k of [1, 2]) {
      for (const capacityFactor of [1.25, 0]) configs.push({ numTokens: size.numTokens, dim: size.dim, hidden, numExperts: 8, k, capacityFactor });
    }
  }
  return configs;
}

function scalingConfigs(backend: string, quick: boolean): BenchConfig[] {
  const base = quick ? { numTokens: 64, dim: 16, hidden: 32 } : backend === 'cpu' ? { numTokens: 1024, dim: 128, hidden: 256 } : { numTokens: 4096, dim: 256, hidden: 1024 };
  const experts = quick ? [2, 8] : [8, 32, 128];
  return experts.map((numExperts) => ({ ...base, numExperts, k: 1, capacityFactor: 1.25 }));
}

/** Host reads of one train step (after one to prime) with the layout, at a small size: the count does not depend on it. */
function readsPerTrainStep(c: BenchConfig, layout: 'padded' | 'grouped', make: (D: number, T: number) => ReturnType<typeof benchRouters[number]['make']>): number {
  const small = { ...c, numTokens: 256, dim: 32, hidden: 32 };
  const strategy = moekitStrategy(small, layout, (D) => make(D, small.numTokens));
  try {
    tf.dispose(strategy.train());
    const { sync, async, result } = countHostReads(strategy.train);
    tf.dispose(result);
    return sync + async;
  } finally {
    strategy.dispose();
  }
}

function routerConfigs(backend: string, quick: boolean): BenchConfig[] {
  if (quick) return [{ numTokens: 64, dim: 16, hidden: 32, numExperts: 4, k: 1, capacityFactor: 1.25 }];
  const size = backend === 'cpu' ? { numTokens: 1024, dim: 256, hidden: 512 } : { numTokens: 4096, dim: 512, hidden: 1024 };
  const experts = option('experts', '8,64').split(',').map(Number);
  return experts.map((numExperts) => ({ ...size, numExperts, k: 1, capacityFactor: 1.25 }));
}

async function runStrategy(backend: string, threads: number, config: BenchConfig, method: string, make: () => Strategy, runs: number, section: Row['section'], modes: Row['mode'][] = ['forward', 'train']): Promise<void> {
  let strategy: Strategy | undefined;
  try {
    strategy = make();
    for (const mode of modes) {
      try {
        const m = await measure(mode === 'forward' ? strategy.forward : strategy.train, { warmup: 1, runs, profile: mode === 'train' });
        const flops = expertFlops(config) * (mode === 'forward' ? 1 : 3);
        const row: Row = { backend, threads, section, config, method, mode, ms: m.ms, gflops: flops / m.ms / 1e6, leaked: m.leaked, peakMB: m.peakBytes / 2 ** 20, profileMB: m.profilePeakBytes / 2 ** 20 };
        console.log(JSON.stringify(row));
      } catch (error) {
        // e.g. the one-hot dispatch exhausting the wasm heap: a result, not a crash
        const row: Row = { backend, threads, section, config, method, mode, ms: NaN, gflops: NaN, leaked: 0, peakMB: NaN, profileMB: NaN, error: (error as Error).message.split('(')[0]!.trim() };
        console.log(JSON.stringify(row));
      }
    }
  } finally {
    strategy?.dispose();
  }
}

async function matMulRow(backend: string, threads: number): Promise<void> {
  const a = tf.randomNormal([1024, 512]);
  const b = tf.randomNormal([512, 1024]);
  const m = await measure(() => [tf.matMul(a, b)], { warmup: 2, runs: 7 });
  tf.dispose([a, b]);
  const config: BenchConfig = { numTokens: 1024, dim: 512, hidden: 1024, numExperts: 1, k: 1, capacityFactor: 0 };
  console.log(JSON.stringify({ backend, threads, section: 'matmul', config, method: 'matMul [1024,512]x[512,1024]', mode: 'forward', ms: m.ms, gflops: (2 * 1024 * 512 * 1024) / m.ms / 1e6, leaked: m.leaked, peakMB: m.peakBytes / 2 ** 20, profileMB: NaN } satisfies Row));
}

async function child(): Promise<void> {
  const backend = option('backend', 'wasm');
  const threads = Number(option('threads', '1'));
  const quick = flag('quick');
  const choice = await selectBackend({ prefer: [backend as 'wasm'], threads });
  const actualThreads = choice.threads ?? 1;
  console.error(`# ${choice.backend}: ${choice.reason}`);
  const runs = quick ? 1 : 5;
  const sections = option('sections', 'layer,experts,routers,onehot').split(',');
  await matMulRow(choice.backend, actualThreads);
  const configs = layerConfigs(backend, quick).filter((c) => option('hidden', '') === '' || c.hidden === Number(option('hidden', '')));
  for (const c of sections.includes('layer') ? configs : []) {
    await runStrategy(choice.backend, actualThreads, c, 'limit', () => limitStrategy(c), runs, 'layer');
    await runStrategy(choice.backend, actualThreads, c, 'moekit (grouped)', () => moekitStrategy(c, 'grouped'), runs, 'layer');
    await runStrategy(choice.backend, actualThreads, c, 'moekit (padded)', () => moekitStrategy(c, 'padded'), runs, 'layer');
    await runStrategy(choice.backend, actualThreads, c, 'dense FFN, same active compute', () => denseStrategy(c), runs, 'layer');
  }
  for (const c of sections.includes('experts') ? scalingConfigs(backend, quick) : []) {
    await runStrategy(choice.backend, actualThreads, c, 'limit', () => limitStrategy(c), runs, 'experts', ['train']);
    await runStrategy(choice.backend, actualThreads, c, 'moekit (auto)', () => moekitStrategy(c, 'auto'), runs, 'experts', ['train']);
  }
  for (const c of sections.includes('routers') ? routerConfigs(backend, quick) : []) {
    for (const r of benchRouters) {
      const config = { ...c, k: r.k };
      const make = (D: number, T: number) => r.make(c.numExperts, D, T);
      let limit: Strategy | undefined;
      let routed: Strategy | undefined;
      try {
        limit = limitStrategy(config);
        routed = moekitStrategy(config, 'auto', (D) => make(D, config.numTokens));
        const m = measureSideBySide(limit.train, routed.train, { warmup: 1, runs: quick ? 1 : 7 });
        const hostReads = { padded: readsPerTrainStep(config, 'padded', make), grouped: readsPerTrainStep(config, 'grouped', make) };
        const flops = expertFlops(config) * 3;
        const base = { backend: choice.backend, threads: actualThreads, section: 'routers' as const, config, mode: 'train' as const, profileMB: NaN };
        console.log(JSON.stringify({ ...base, method: `limit for ${r.name}`, ms: m.aMs, gflops: flops / m.aMs / 1e6, leaked: 0, peakMB: NaN } satisfies Row));
        console.log(JSON.stringify({ ...base, method: r.name, ms: m.bMs, gflops: flops / m.bMs / 1e6, leaked: m.leaked, peakMB: m.peakBytes / 2 ** 20, ratio: m.ratio, hostReads } satisfies Row));
      } catch (error) {
        console.log(JSON.stringify({ backend: choice.backend, threads: actualThreads, section: 'routers', config, method: r.name, mode: 'train', ms: NaN, gflops: NaN, leaked: 0, peakMB: NaN, profileMB: NaN, error: (error as Error).message.split('(')[0]!.trim() } satisfies Row));
      } finally {
        limit?.dispose();
        routed?.dispose();
      }
    }
  }
  // The one-hot dispatch last: at k = 2 it can exhaust the wasm heap, and a failed gradient leaves
  // tensors behind that would distort everything measured after it.
  for (const c of sections.includes('onehot') ? configs.filter((x) => quick || x.hidden === Math.min(...configs.map((y) => y.hidden))) : []) {
    await runStrategy(choice.backend, actualThreads, c, 'GShard one-hot dispatch', () => oneHotStrategy(c), runs, 'layer');
  }
}

function numpyCeiling(): string {
  try {
    return execFileSync('python3', ['-c', [
      'import numpy as np, time',
      'a = np.random.rand(1024, 512).astype(np.float32); b = np.random.rand(512, 1024).astype(np.float32)',
      'a @ b',
      'ts = []',
      'for _ in range(7):',
      '    t = time.perf_counter(); a @ b; ts.append(time.perf_counter() - t)',
      'ts.sort(); ms = ts[3] * 1e3',
      'print(f"{ms:.2f} ms, {2 * 1024 * 512 * 1024 / ms / 1e6:.1f} GFLOP/s (numpy {np.__version__})")',
    ].join('\n')], { encoding: 'utf8' }).trim();
  } catch (error) {
    return `numpy not available (${(error as Error).message.split('\n')[0]})`;
  }
}

function describeConfig(c: BenchConfig): string {
  return `T=${c.numTokens} D=${c.dim} H=${c.hidden} E=${c.numExperts} k=${c.k} ${c.capacityFactor === 0 ? 'dropless' : `cf=${c.capacityFactor}`}`;
}

function report(rows: Row[]): void {
  const groups = new Map<string, Row[]>();
  for (const r of rows) {
    const key = `${r.backend} (${r.threads} thread${r.threads === 1 ? '' : 's'})`;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  for (const [backend, list] of groups) {
    const mm = list.find((r) => r.section === 'matmul');
    console.log(`## ${backend}\n\nmatMul [1024,512]×[512,1024]: ${mm ? `${mm.ms.toFixed(1)} ms, ${mm.gflops.toFixed(1)} GFLOP/s` : 'n/a'}\n`);
    console.log('| config | method | forward ms | × limit | train ms | × limit | train GFLOP/s | leaked | peak MB | tf.profile MB |');
    console.log('|---|---|---:|---:|---:|---:|---:|---:|---:|---:|');
    const layer = list.filter((r) => r.section === 'layer');
    const configs = [...new Set(layer.map((r) => describeConfig(r.config)))];
    for (const cfg of configs) {
      const of = (method: string, mode: Row['mode']) => layer.find((r) => describeConfig(r.config) === cfg && r.method === method && r.mode === mode);
      const methods = [...new Set(layer.filter((r) => describeConfig(r.config) === cfg).map((r) => r.method))];
      for (const method of methods) {
        const f = of(method, 'forward');
        const t = of(method, 'train');
        const lf = of('limit', 'forward');
        const lt = of('limit', 'train');
        const ratio = (r?: Row, l?: Row) => (r && l && !r.error ? `${(r.ms / l.ms).toFixed(2)}×` : '');
        const cell = (r?: Row) => (r?.error ? `failed: ${r.error}` : r?.ms.toFixed(0) ?? '');
        console.log(`| ${cfg} | ${method} | ${cell(f)} | ${ratio(f, lf)} | ${cell(t)} | ${ratio(t, lt)} | ${t?.error ? '' : t?.gflops.toFixed(1) ?? ''} | ${t?.error ? '' : t?.leaked ?? ''} | ${t?.error ? '' : t?.peakMB.toFixed(0) ?? ''} | ${t?.error ? '' : t?.profileMB.toFixed(0) ?? ''} |`);
      }
    }
    const scaling = list.filter((r) => r.section === 'experts');
    if (scaling.length > 0) {
      const at = (method: string, E: number) => scaling.find((r) => r.method === method && r.config.numExperts === E);
      const experts = [...new Set(scaling.map((r) => r.config.numExperts))];
      const first = experts[0]!;
      console.log(`\nExperts at equal active compute (train step):\n\n| config | moekit ms | × E=${first} | limit ms | × E=${first} | moekit × limit | leaked | peak MB |\n|---|---:|---:|---:|---:|---:|---:|---:|`);
      for (const E of experts) {
        const m = at('moekit (auto)', E);
        const l = at('limit', E);
        const m0 = at('moekit (auto)', first);
        const l0 = at('limit', first);
        if (m === undefined) continue;
        const times = (a?: Row, b?: Row) => (a && b && !a.error && !b.error ? `${(a.ms / b.ms).toFixed(2)}×` : '');
        console.log(`| ${describeConfig(m.config)} | ${m.ms.toFixed(0)} | ${times(m, m0)} | ${l?.ms.toFixed(0) ?? ''} | ${times(l, l0)} | ${times(m, l)} | ${m.leaked} | ${m.peakMB.toFixed(0)} |`);
      }
    }
    const routers = list.filter((r) => r.section === 'routers');
    if (routers.length > 0) {
      console.log('\nRouters (train step, layout auto, capacity factor 1.25, timed in alternating rounds with the limit; × limit is the median of the per-round ratios; host reads per train step counted at T=256):\n\n| config | router | train ms | limit ms | × limit | reads padded | reads grouped | leaked | peak MB |\n|---|---|---:|---:|---:|---:|---:|---:|---:|');
      for (const m of routers.filter((r) => !r.method.startsWith('limit for '))) {
        const l = routers.find((r) => r.method === `limit for ${m.method}` && r.config.numExperts === m.config.numExperts);
        const times = m.error ? `failed: ${m.error}` : m.ms.toFixed(0);
        console.log(`| ${describeConfig(m.config)} | ${m.method} | ${times} | ${l?.ms.toFixed(0) ?? ''} | ${m.ratio !== undefined && !m.error ? `${m.ratio.toFixed(2)}×` : ''} | ${m.hostReads?.padded ?? ''} | ${m.hostReads?.grouped ?? ''} | ${m.error ? '' : m.leaked} | ${m.error ? '' : m.peakMB.toFixed(0)} |`);
      }
    }
    console.log('');
  }
}

async function parent(): Promise<void> {
  const quick = flag('quick');
  const script = fileURLToPath(import.meta.url);
  const only = option('only', '');
  const runs = [{ backend: 'wasm', threads: 2 }, { backend: 'wasm', threads: 1 }, { backend: 'cpu', threads: 1 }]
    .filter((r) => only === '' || only.split(',').includes(`${r.backend}:${r.threads}`));
  const rows: Row[] = [];
  const failures: string[] = [];
  console.log(`Native BLAS ceiling, same matMul: ${numpyCeiling()}`);
  for (const r of runs) {
    console.error(`running ${r.backend} with ${r.threads} thread(s)…`);
    const result = spawnSync(process.execPath, [script, '--child', '--backend', r.backend, '--threads', String(r.threads), '--sections', option('sections', 'layer,experts,routers,onehot'), ...(option('hidden', '') ? ['--hidden', option('hidden', '')] : []), ...(option('experts', '') ? ['--experts', option('experts', '')] : []), ...(quick ? ['--quick'] : [])], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
      maxBuffer: 64 * 2 ** 20,
      env: { ...process.env, MOEKIT_BACKEND: '' },
    });
    const mine = result.stdout.split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as Row);
    rows.push(...mine);
    report(mine); // each backend's table as soon as it is measured
    if (result.status !== 0) failures.push(`${r.backend} (${r.threads} threads) stopped with status ${result.status} after ${mine.length} measurements`);
  }
  if (failures.length > 0) {
    console.log(`\nIncomplete: ${failures.join('; ')}.`);
    process.exitCode = 1;
  }
}

/** `--peer-child moekit|onnx`: one round of moekit's side of `--peer torch`, in tfjs or in ONNX Runtime (peer-moekit-child.ts). */
async function peerChild(): Promise<void> {
  const shape = JSON.parse(option('shape', '')) as BenchConfig;
  const options = { runs: Number(option('runs', '5')), warmup: 1, memory: flag('memory'), matmul: flag('matmul'), threads: Number(option('threads', '2')) };
  await (option('peer-child', 'moekit') === 'onnx' ? peerOnnxChild(shape, options) : peerMoekitChild(shape, options));
}

const peer = parsePeerArgs(args);
await (flag('peer-child') ? peerChild() : peer !== undefined ? runTorchPeer(peer, fileURLToPath(import.meta.url)) : flag('child') ? child() : parent());
