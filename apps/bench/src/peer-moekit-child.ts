/**
 * moekit's side of the PyTorch peer, run in its own process (wasm, 2 threads) once per round and shape:
 * the public `TopKRouter` (router-topk) and `FeedForwardExperts` (experts-ffn, ReLU, no bias) in core's
 * `MixtureOfExperts` with layout 'auto' — the layer `apps/bench/peer/torch_moe.py` computes — timed as a
 * train step and as inference, with cores busy and the distinct-buffer peak. Prints JSON lines.
 */
import * as tf from '@tensorflow/tfjs';
import { MixtureOfExperts } from '@moekit/core';
import { FeedForwardExperts } from '@moekit/experts-ffn';
import { selectBackend } from '@moekit/platform';
import { TopKRouter } from '@moekit/router-topk';
import { measure } from './measure.js';
import { onnxMatMulRate } from './onnx-matmul-rate.js';
import { onnxRuntimeInference } from './onnx-runtime-inference.js';
import type { PeerLayerRow, PeerMatMulRow } from './peer-report.js';
import { moeSteps, type BenchConfig, type Strategy } from './strategies.js';

const sgd = tf.train.sgd(1e-6);

/**
 * The peer layer in moekit: softmax top-k over a linear gate without noise (`gates: 'topKSoftmax'`,
 * the k chosen probabilities summing to 1, as Mixtral), Switch's load-balancing loss at 0.01 (Fedus et
 * al. 2021, Eq. 4) and no importance loss, ReLU experts without bias, capacity factor for train and eval.
 */
export function peerMoekitStrategy(c: BenchConfig): Strategy & { moe: MixtureOfExperts; x: tf.Variable } {
  const x = tf.tidy(() => tf.variable(tf.randomNormal([c.numTokens, c.dim], 0, 1, 'float32', 1))); // [T, D]
  const router = new TopKRouter({ numExperts: c.numExperts, k: c.k, inputDim: c.dim, noise: 'none', gates: 'topKSoftmax', importanceWeight: 0, loadWeight: 0.01, cleanLoadWeight: 0, kernelInitializer: 'glorotUniform', seed: 2 });
  const experts = new FeedForwardExperts({ numExperts: c.numExperts, inputDim: c.dim, hiddenDim: c.hidden, activation: 'relu', useBias: false, seed: 3 });
  const moe = new MixtureOfExperts({ router, experts, capacity: { train: c.capacityFactor, eval: c.capacityFactor }, layout: 'auto' });
  const variables = [x, ...router.trainableVariables, ...experts.trainableVariables];
  const { forward, loss } = moeSteps(moe, x); // loss = mean(y²) + aux, the torch peer's loss
  const train = () => {
    const { value, grads } = tf.variableGrads(loss, variables);
    sgd.applyGradients(grads);
    tf.dispose(Object.values(grads));
    return [value];
  };
  return { forward, train, dispose: () => { moe.dispose(); x.dispose(); }, moe, x };
}

/** Median ms of `runs` steps after `warmup`, and process CPU time over wall time across the timed steps. */
async function timed(step: () => tf.Tensor[], warmup: number, runs: number): Promise<{ ms: number; coresBusy: number }> {
  for (let i = 0; i < warmup; i++) {
    const out = step();
    for (const t of out) t.dataSync();
    tf.dispose(out);
  }
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const m = await measure(step, { warmup: 0, runs, profile: false });
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  return { ms: m.ms, coresBusy: (cpu.user + cpu.system) / 1e3 / wallMs };
}

/** tfjs's matMul rate on the current backend, `[1024,512]×[512,1024]`. */
async function tfjsMatMulRate(backend: string, threads: number): Promise<PeerMatMulRow> {
  const a = tf.randomNormal([1024, 512]); // [M, K]
  const b = tf.randomNormal([512, 1024]); // [K, N]
  const m = await measure(() => [tf.matMul(a, b)], { warmup: 2, runs: 15, profile: false });
  tf.dispose([a, b]);
  return { kind: 'matmul', library: `tfjs-${backend} ${tf.version.tfjs} (${threads} threads)`, ms: m.ms, gflops: (2 * 1024 * 512 * 1024) / m.ms / 1e6 };
}

/**
 * One round of moekit's side for one shape: train then inference, `runs` timed steps each after
 * `warmup`; with `memory` also the distinct-buffer peak of one step, with `matmul` first tfjs-wasm's
 * matMul rate.
 */
export async function peerMoekitChild(c: BenchConfig, options: { runs: number; warmup: number; memory: boolean; matmul: boolean; threads: number }): Promise<void> {
  const choice = await selectBackend({ prefer: ['wasm'], threads: options.threads });
  console.error(`# ${choice.backend}: ${choice.reason}`);
  if (options.matmul) {
    console.log(JSON.stringify(await tfjsMatMulRate(choice.backend, choice.threads ?? 1)));
  }
  const strategy = peerMoekitStrategy(c);
  try {
    for (const [mode, step] of [['train', strategy.train], ['infer', strategy.forward]] as const) {
      const { ms, coresBusy } = await timed(step, options.warmup, options.runs);
      const peakMB = options.memory ? (await measure(step, { warmup: 0, runs: 1, profile: true })).peakBytes / 2 ** 20 : NaN;
      console.log(JSON.stringify({ kind: 'layer', config: c, mode, ms, coresBusy, peakMB } satisfies PeerLayerRow));
    }
  } finally {
    strategy.dispose();
  }
}

/**
 * One round of the ONNX Runtime column, in a process of its own (as torch has): the same seeded layer,
 * exported and run in onnxruntime-node with `threads` intra-op threads. tfjs runs single-threaded here
 * (only to build, export and check the layer): in moekit's process, after the wasm step, ONNX Runtime's
 * inference took 72 ms where it takes 42 ms alone (E=8, k=1), the idle wasm workers competing for the cores.
 */
export async function peerOnnxChild(c: BenchConfig, options: { runs: number; threads: number; matmul: boolean }): Promise<void> {
  await selectBackend({ prefer: ['wasm'], threads: 1 });
  if (options.matmul) console.log(JSON.stringify(await onnxMatMulRate(15, options.threads)));
  const strategy = peerMoekitStrategy(c);
  try {
    const onnx = await onnxRuntimeInference(strategy.moe, strategy.x as tf.Tensor as tf.Tensor2D, options.runs, options.threads);
    console.log(JSON.stringify({ kind: 'onnx', config: c, ms: onnx.ms, tokensDiffering: onnx.tokensDiffering }));
  } finally {
    strategy.dispose();
  }
}
