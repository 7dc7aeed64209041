/**
 * `node apps/bench/dist/step-memory.js [--experts 8] [--k 1] [--layout grouped|padded]`: what is alive
 * at the peak of one moekit training step on tfjs-wasm (the issue-22 layer: public `TopKRouter`,
 * softmax top-k without noise, `FeedForwardExperts` ReLU without bias, capacity factor 1.25, T = 4096,
 * D = 512, H = 1024). Counts distinct data buffers (views and saved clones once, as `measure.ts`),
 * each tagged with the kernel that made it, and prints the live set at the peak grouped by kernel and
 * shape. A benchmark-only instrument: it wraps the tfjs engine's `trackTensor`, `removeDataId` and
 * `runKernel`.
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
await selectBackend({ prefer: ['wasm'], threads: 2 });
const [T, D, H] = [4096, 512, 1024];
const E = Number(option('experts', '8'));
const k = Number(option('k', '1'));
const layout = option('layout', 'auto') as 'auto' | 'grouped' | 'padded';

const x = tf.tidy(() => tf.variable(tf.randomNormal([T, D], 0, 1, 'float32', 1)));
const router = new TopKRouter({ inputDim: D, numExperts: E, k, noise: 'none', gates: 'softmax', seed: 2 });
const experts = new FeedForwardExperts({ numExperts: E, inputDim: D, hiddenDim: H, activation: 'relu', useBias: false, seed: 3 });
const moe = new MixtureOfExperts({ router, experts, capacity: { train: 1.25, eval: 1.25 }, layout });
const sgd = tf.train.sgd(1e-6);
const variables = [x, ...router.trainableVariables, ...experts.trainableVariables];
const step = () => {
  const { value, grads } = tf.variableGrads(() => tf.tidy(() => {
    const r = moe.apply(x, { training: true });
    return tf.add(tf.mean(tf.square(r.output)), r.auxLosses.total) as tf.Scalar;
  }), variables);
  sgd.applyGradients(grads);
  tf.dispose(Object.values(grads));
  value.dispose();
};
step();

type Info = { bytes: number; tag: string };
const engine = tf.engine() as unknown as {
  state: { tensorInfo: { has(id: object): boolean; get(id: object): { bytes: number } | undefined } };
  trackTensor(a: tf.Tensor, backend: unknown): void;
  removeDataId(id: object, backend: unknown): void;
  runKernel(name: string, inputs: unknown, attrs: unknown): unknown;
};
const { trackTensor, removeDataId, runKernel } = engine;
const live = new Map<object, Info>();
let current = 'outside kernels (weights, constants)';
let bytes = 0;
let peak = 0;
let atPeak: Info[] = [];
let peakKernel = '';
const before = new Map<object, Info>();
// what is alive before the step: the weights and the input, tagged as such
for (const v of variables) before.set(v.dataId, { bytes: v.size * 4, tag: `before the step: ${v.name.replace(/_\d+$/, '')} [${v.shape.join(',')}]` });
for (const [id, info] of before) live.set(id, info);
bytes = [...live.values()].reduce((s, i) => s + i.bytes, 0);
engine.runKernel = function (this: typeof engine, name, inputs, attrs) {
  const outer = current;
  current = name;
  try {
    return runKernel.call(this, name, inputs, attrs);
  } finally {
    current = outer;
  }
};
engine.trackTensor = function (this: typeof engine, a: tf.Tensor, backend: unknown) {
  const isNew = !this.state.tensorInfo.has(a.dataId);
  trackTensor.call(this, a, backend);
  if (isNew) {
    const info = { bytes: this.state.tensorInfo.get(a.dataId)?.bytes ?? 0, tag: `${current} [${a.shape.join(',')}] ${a.dtype}` };
    live.set(a.dataId, info);
    bytes += info.bytes;
    if (bytes > peak) {
      peak = bytes;
      atPeak = [...live.values()];
      peakKernel = info.tag;
    }
  }
};
engine.removeDataId = function (this: typeof engine, id: object, backend: unknown) {
  removeDataId.call(this, id, backend);
  const info = live.get(id);
  if (info !== undefined && !this.state.tensorInfo.has(id)) {
    live.delete(id);
    bytes -= info.bytes;
  }
};
step();
const groups = new Map<string, { n: number; bytes: number }>();
for (const i of atPeak) {
  const g = groups.get(i.tag) ?? { n: 0, bytes: 0 };
  groups.set(i.tag, { n: g.n + 1, bytes: g.bytes + i.bytes });
}
console.log(`E=${E} k=${k} layout ${layout}: peak of distinct live buffers ${(peak / 2 ** 20).toFixed(1)} MB reached by the output of ${peakKernel} (weights and input ${([...before.values()].reduce((s, i) => s + i.bytes, 0) / 2 ** 20).toFixed(1)} MB)\n`);
console.log('| made by [shape] dtype | buffers | MB |\n|---|---:|---:|');
for (const [tag, g] of [...groups].sort((a, b) => b[1].bytes - a[1].bytes)) {
  if (g.bytes < 2 ** 19) continue;
  console.log(`| ${tag} | ${g.n} | ${(g.bytes / 2 ** 20).toFixed(1)} |`);
}
