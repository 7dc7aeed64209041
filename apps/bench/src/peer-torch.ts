/**
 * `npm run bench -- --peer torch`: moekit's MoE layer against the same layer in PyTorch
 * (`apps/bench/peer/torch_moe.py` under `/usr/bin/python3`), in alternating rounds — a moekit process
 * (wasm, 2 threads), then the torch process — per shape, reporting medians and the median of the
 * per-round ratios moekit / torch, and the matMul rates of numpy, torch, tfjs-wasm and onnxruntime-node.
 * Without torch it prints how to get it and skips (exit 0).
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { matMulLines, peerTable, summarise, type PeerLayerRow, type PeerMatMulRow, type PeerRounds } from './peer-report.js';
import type { BenchConfig } from './strategies.js';

/** The interpreter the peer runs under: Debian's, where `python3-torch` installs. */
export const PEER_PYTHON = '/usr/bin/python3';

/** Printed (and the run skipped, exit 0) when `/usr/bin/python3` cannot import torch. */
export const TORCH_SKIP_MESSAGE = "PyTorch peer skipped: install Debian's python3-torch (apt-get install -y python3-torch libopenblas0-openmp)";

/** Where Debian's OpenMP build of OpenBLAS lives (package libopenblas0-openmp, beside the pthread build). */
export const OPENBLAS_OPENMP_DIR = '/usr/lib/x86_64-linux-gnu/openblas-openmp';

/** The options of `--peer torch`. */
export interface PeerOptions {
  /** The peer library; only `'torch'`. */
  peer: 'torch';
  /** Alternating rounds per shape (≥ 3). Default 3. */
  rounds: number;
  /** Timed steps per mode per round. Default 5. */
  runs: number;
  /** Expert counts `E`. Default 8, 64. */
  experts: number[];
  /** Choices per token `k`. Default 1, 2. */
  ks: number[];
  /** Threads of both sides. Default 2. */
  threads: number;
  /** Tiny sizes, 3 rounds of 1 run: checks every path. */
  quick: boolean;
}

function positiveIntegers(name: string, text: string): number[] {
  const values = text.split(',').map((s) => Number(s.trim()));
  if (values.length === 0 || values.some((v) => !Number.isInteger(v) || v < 1)) throw new Error(`--${name}: expected positive integers separated by commas, got '${text}'`);
  return values;
}

/**
 * Parses `--peer torch [--rounds R] [--runs N] [--experts 8,64] [--k 1,2] [--threads 2] [--quick]`;
 * returns undefined without `--peer`, throws on an unknown peer or a bad number.
 */
export function parsePeerArgs(args: readonly string[]): PeerOptions | undefined {
  const i = args.indexOf('--peer');
  if (i < 0) return undefined;
  const peer = args[i + 1];
  if (peer !== 'torch') throw new Error(`--peer: expected 'torch', got ${peer === undefined ? 'nothing' : `'${peer}'`}`);
  const option = (name: string, fallback: string) => {
    const j = args.indexOf(`--${name}`);
    return j >= 0 && args[j + 1] !== undefined ? args[j + 1]! : fallback;
  };
  const quick = args.includes('--quick');
  const [rounds] = positiveIntegers('rounds', option('rounds', '3'));
  if (rounds! < 3) throw new Error(`--rounds: expected at least 3 (a median of per-round ratios), got ${rounds}`);
  const [runs] = positiveIntegers('runs', option('runs', quick ? '1' : '5'));
  const [threads] = positiveIntegers('threads', option('threads', '2'));
  return { peer, rounds: rounds!, runs: runs!, experts: positiveIntegers('experts', option('experts', quick ? '4' : '8,64')), ks: positiveIntegers('k', option('k', quick ? '1,2' : '1,2')), threads: threads!, quick };
}

/** The shapes of the issue: T=4096, D=512, H=1024, capacity factor 1.25, each E × k (tiny with quick). */
export function peerShapes(o: PeerOptions): BenchConfig[] {
  const size = o.quick ? { numTokens: 64, dim: 16, hidden: 32 } : { numTokens: 4096, dim: 512, hidden: 1024 };
  return o.experts.flatMap((numExperts) => o.ks.map((k) => ({ ...size, numExperts, k, capacityFactor: 1.25 })));
}

/**
 * The torch process's environment: Debian's OpenMP OpenBLAS first on the library path, `threads` OpenMP
 * threads that sleep when idle (`OMP_WAIT_POLICY=PASSIVE`: on a shared 2-core machine libgomp's default
 * spin-waiting made one E=64 step 3-10× slower, each barrier waiting on a descheduled thread), and
 * `OPENBLAS_CORETYPE` / `OPENBLAS_L2_SIZE` removed (this machine sets them, forcing AVX2 kernels) — for
 * that process alone; the system's alternatives are not touched.
 */
export function torchPeerEnv(env: NodeJS.ProcessEnv, threads: number): NodeJS.ProcessEnv {
  const { OPENBLAS_CORETYPE: _coretype, OPENBLAS_L2_SIZE: _l2, ...rest } = env;
  return { ...rest, LD_LIBRARY_PATH: [OPENBLAS_OPENMP_DIR, env.LD_LIBRARY_PATH].filter(Boolean).join(':'), OMP_NUM_THREADS: String(threads), OMP_WAIT_POLICY: 'PASSIVE' };
}

/** Whether `python` can import torch. */
export function hasTorch(python = PEER_PYTHON): boolean {
  const r = spawnSync(python, ['-c', 'import torch'], { stdio: 'ignore' });
  return r.status === 0;
}

function jsonLines(stdout: string): Record<string, unknown>[] {
  return stdout.split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as Record<string, unknown>);
}

function run(command: string, args: string[], env: NodeJS.ProcessEnv): Record<string, unknown>[] {
  const r = spawnSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 16 * 2 ** 20, env });
  if (r.status !== 0) throw new Error(`${command} ${args.join(' ')} stopped with status ${r.status}: ${r.stderr.split('\n').filter((l) => l.trim() && !l.startsWith('W') && !l.startsWith('WARNING')).slice(-3).join(' | ')}`);
  return jsonLines(r.stdout);
}

/** Runs the peer comparison and prints its report (markdown). `mainScript` is `main.js`, re-run as the moekit child. */
export function runTorchPeer(o: PeerOptions, mainScript: string): void {
  if (!hasTorch()) {
    console.log(TORCH_SKIP_MESSAGE);
    return;
  }
  const peerScript = fileURLToPath(new URL('../peer/torch_moe.py', import.meta.url));
  const matmul: PeerMatMulRow[] = [];
  let blas: { libraries?: string[] } | undefined;
  const summaries = peerShapes(o).map((c) => {
    const rounds: PeerRounds = { config: c, moekit: [], torch: [], onnxRuntimeMs: [] };
    for (let round = 0; round < o.rounds; round++) {
      console.error(`E=${c.numExperts} k=${c.k}: round ${round + 1} of ${o.rounds}`);
      const first = round === 0 && matmul.length === 0;
      const mine = run(process.execPath, [mainScript, '--peer-child', 'moekit', '--shape', JSON.stringify(c), '--runs', String(o.runs), '--threads', String(o.threads), ...(round === 0 ? ['--memory'] : []), ...(first ? ['--matmul'] : [])], { ...process.env, MOEKIT_BACKEND: '' });
      rounds.moekit.push(...(mine.filter((r) => r.kind === 'layer') as unknown as PeerLayerRow[]));
      const onnx = run(process.execPath, [mainScript, '--peer-child', 'onnx', '--shape', JSON.stringify(c), '--runs', String(o.runs), '--threads', String(o.threads), ...(first ? ['--matmul'] : [])], { ...process.env, MOEKIT_BACKEND: '' });
      rounds.onnxRuntimeMs.push(onnx.filter((r) => r.kind === 'onnx').map((r) => (r.ms === null ? undefined : (r.ms as number)))[0]);
      const differing = onnx.find((r) => r.kind === 'onnx')?.['tokensDiffering'];
      if (typeof differing === 'number' && differing > 0) console.error(`  ONNX Runtime's output differs from moe.apply's by > 1e-4 on ${differing} of ${c.numTokens} tokens (near-tie routing)`);
      const torchArgs = [peerScript, '--tokens', String(c.numTokens), '--dim', String(c.dim), '--hidden', String(c.hidden), '--experts', String(c.numExperts), '--k', String(c.k), '--capacity-factor', String(c.capacityFactor), '--runs', String(o.runs), '--threads', String(o.threads), ...(first ? [] : ['--skip-matmul'])];
      const theirs = run(PEER_PYTHON, torchArgs, torchPeerEnv(process.env, o.threads));
      rounds.torch.push(...(theirs.filter((r) => r.kind === 'layer') as unknown as PeerLayerRow[]));
      matmul.push(...([...mine, ...onnx, ...theirs].filter((r) => r.kind === 'matmul') as unknown as PeerMatMulRow[]));
      blas ??= theirs.find((r) => r.kind === 'blas') as typeof blas;
    }
    const summary = summarise(rounds);
    console.error(peerTable([summary], NaN).split('\n').at(-1)); // this shape's row as soon as it is measured
    return summary;
  });
  const wasm = matmul.find((r) => r.library.startsWith('tfjs-wasm'));
  console.log(`## Against PyTorch (${o.rounds} alternating rounds, ${o.runs} timed steps each, ${o.threads} threads)\n`);
  console.log(`torch's BLAS (mapped, from /proc/self/maps): ${blas?.libraries?.join(', ') ?? 'unknown'}\n`);
  console.log(`matMul [1024,512]×[512,1024] (numpy and torch in the torch process, tfjs-wasm in moekit's, onnxruntime-node in its own):\n\n${matMulLines(matmul)}\n`);
  console.log(peerTable(summaries, wasm?.gflops ?? NaN));
}
