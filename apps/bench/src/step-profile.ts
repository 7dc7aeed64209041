/**
 * `node apps/bench/dist/step-profile.js [--experts 8,64] [--k 1,2] [--threads 2] [--steps 5]`: a
 * per-kernel profile of one moekit training step on tfjs-wasm — the issue-22 layer through the public
 * `TopKRouter` (softmax top-k, no noise) and `FeedForwardExperts` (ReLU, no bias) in
 * `MixtureOfExperts` (layout 'auto', capacity factor 1.25), T = 4096, D = 512, H = 1024 — with:
 *
 * - kernel time by kernel name (`tf.profile`), as a share of the kernels' total;
 * - cores busy over the timed steps: process CPU time (every wasm worker thread included) / wall time;
 * - the step against the time its expert FLOPs (3 × 4·k·T·D·H) take at tfjs-wasm's plain matMul rate
 *   on `[1024, 512] × [512, 1024]`, measured in the same process.
 */
import * as tf from '@tensorflow/tfjs';
import { MixtureOfExperts } from '@moekit/core';
import { FeedForwardExperts } from '@moekit/experts-ffn';
import { selectBackend } from '@moekit/platform';
import { TopKRouter } from '@moekit/router-topk';

const args = process.argv.slice(2);
const option = (name: string, fallback: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1]! : fallback;
};
const threads = Number(option('threads', '2'));
const steps = Number(option('steps', '5'));
const T = Number(option('tokens', '4096'));
const D = Number(option('dim', '512'));
const H = Number(option('hidden', '1024'));
const choice = await selectBackend({ prefer: ['wasm'], threads });
console.log(`# ${choice.backend}, ${choice.threads ?? 1} thread(s)`);

/** Median ms of `fn` over `runs` after one warm-up, and the cores busy over the timed runs. */
function timed(fn: () => tf.Tensor[], runs: number): { ms: number; cores: number } {
  tf.dispose(fn().map((t) => (t.dataSync(), t)));
  const times: number[] = [];
  const cpu0 = process.cpuUsage();
  const wall0 = performance.now();
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    const out = fn();
    for (const t of out) t.dataSync();
    tf.dispose(out);
    times.push(performance.now() - t0);
  }
  const cpu = process.cpuUsage(cpu0);
  const wall = performance.now() - wall0;
  times.sort((a, b) => a - b);
  return { ms: times[Math.floor(times.length / 2)]!, cores: (cpu.user + cpu.system) / 1000 / wall };
}

const a = tf.randomNormal([1024, 512]);
const b = tf.randomNormal([512, 1024]);
const matMul = timed(() => [tf.matMul(a, b)], 9);
const rate = (2 * 1024 * 512 * 1024) / matMul.ms / 1e6; // GFLOP/s
tf.dispose([a, b]);
console.log(`plain matMul [1024,512]x[512,1024]: ${matMul.ms.toFixed(1)} ms, ${rate.toFixed(1)} GFLOP/s, ${matMul.cores.toFixed(2)} cores busy\n`);

const sgd = tf.train.sgd(1e-6);
for (const E of option('experts', '8,64').split(',').map(Number)) {
  for (const k of option('k', '1,2').split(',').map(Number)) {
    const x = tf.tidy(() => tf.variable(tf.randomNormal([T, D], 0, 1, 'float32', 1)));
    // --router default: TopKRouter's defaults (Shazeer's noisy top-k, top-k softmax gates)
    const router = option('router', 'softmax') === 'default' ? new TopKRouter({ inputDim: D, numExperts: E, k, seed: 2 }) : new TopKRouter({ inputDim: D, numExperts: E, k, noise: 'none', gates: 'softmax', seed: 2 });
    const experts = new FeedForwardExperts({ numExperts: E, inputDim: D, hiddenDim: H, activation: 'relu', useBias: false, seed: 3 });
    const moe = new MixtureOfExperts({ router, experts, capacity: { train: 1.25, eval: 1.25 } });
    const loss = () => tf.tidy(() => {
      const r = moe.apply(x, { training: true });
      return tf.add(tf.mean(tf.square(r.output)), r.auxLosses.total) as tf.Scalar;
    });
    tf.dispose(loss());
    const variables = [x, ...router.trainableVariables, ...experts.trainableVariables];
    const step = () => {
      const { value, grads } = tf.variableGrads(loss, variables);
      sgd.applyGradients(grads);
      tf.dispose(Object.values(grads));
      return [value];
    };
    const { ms, cores } = timed(step, steps);
    const flopMs = (3 * 4 * k * T * D * H) / (rate * 1e6);
    const profile = await tf.profile(() => step());
    tf.dispose(profile.result as tf.Tensor[]);
    const byKernel = new Map<string, { ms: number; calls: number }>();
    const byMatMulShape = new Map<string, { ms: number; calls: number; flops: number }>();
    let total = 0;
    for (const kernel of profile.kernels) {
      const t = Number(await kernel.kernelTimeMs);
      // a custom-gradient op's forward is profiled as a scope around kernels that are profiled too
      if (kernel.name === 'unnamed scope') continue;
      total += t;
      if (kernel.name === 'BatchMatMul') {
        const [sa, sb] = kernel.inputShapes as number[][];
        const out = kernel.outputShapes[0] as number[];
        // the contracted length: a's last axis unless the product's shape says a was transposed
        const outRows = out.at(-2)!;
        const inner = sa!.at(-2) === outRows ? sa!.at(-1)! : sa!.at(-2)!;
        const key = `[${sa!.join(',')}]×[${sb!.join(',')}]`;
        const flops = 2 * out.reduce((p, d) => p * d, 1) * inner;
        const e = byMatMulShape.get(key) ?? { ms: 0, calls: 0, flops: 0 };
        byMatMulShape.set(key, { ms: e.ms + t, calls: e.calls + 1, flops: e.flops + flops });
      }
      const entry = byKernel.get(kernel.name) ?? { ms: 0, calls: 0 };
      byKernel.set(kernel.name, { ms: entry.ms + t, calls: entry.calls + 1 });
    }
    console.log(`## T=${T} D=${D} H=${H} E=${E} k=${k} cf=1.25: train step ${ms.toFixed(0)} ms (median of ${steps}), ${cores.toFixed(2)} cores busy; expert FLOPs at the plain matMul rate ${flopMs.toFixed(0)} ms → ${(ms / flopMs).toFixed(2)}×; kernels ${total.toFixed(0)} ms in ${profile.kernels.length} calls\n`);
    console.log('| kernel | calls | ms | share |\n|---|---:|---:|---:|');
    for (const [name, { ms: t, calls }] of [...byKernel].sort((p, q) => q[1].ms - p[1].ms)) {
      if (t / total < 0.002) continue;
      console.log(`| ${name} | ${calls} | ${t.toFixed(1)} | ${((100 * t) / total).toFixed(1)} % |`);
    }
    console.log('\n| matMul shapes (a × b) | calls | ms | GFLOP/s |\n|---|---:|---:|---:|');
    for (const [key, v] of [...byMatMulShape].sort((p, q) => q[1].ms - p[1].ms).slice(0, 12)) {
      console.log(`| ${key} | ${v.calls} | ${v.ms.toFixed(1)} | ${(v.flops / v.ms / 1e6).toFixed(1)} |`);
    }
    console.log('');
    moe.dispose();
    x.dispose();
  }
}
