/**
 * `node apps/bench/dist/onnx-export.js`: inference of an exported MoE in onnxruntime-node beside
 * tfjs-wasm's `moe.apply`, at T=4096, D=512, H=1024 (ReLU experts), E ∈ {8, 64}, k ∈ {1, 2}, evaluation
 * capacity factor 1.25, 2 threads each; and one plain ONNX `MatMul` of the experts' FLOPs
 * (`[T·k, D] × [D, 2H]`: `2·T·k·D·H` multiply-adds, as the two projections), the rate this graph can
 * at best reach. Both ways the exporter sums the experts' rows (`sparseCombine`) are timed. Medians of
 * 10 runs after 3 warm-ups, in ms.
 */
import * as tf from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-node';
import { MixtureOfExperts } from '@moekit/core';
import { FeedForwardExperts } from '@moekit/experts-ffn';
import { encodeOnnxModel, exportMixtureOfExperts, OnnxGraph, type SparseCombine } from '@moekit/onnx';
import { selectBackend } from '@moekit/platform';
import { TopKRouter } from '@moekit/router-topk';

const T = 4096, D = 512, H = 1024, WARMUPS = 3, RUNS = 10;
const threads = 2;

async function median(run: () => Promise<void> | void): Promise<number> {
  for (let i = 0; i < WARMUPS; i++) await run();
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const start = performance.now();
    await run();
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  return (times[RUNS / 2 - 1]! + times[RUNS / 2]!) / 2;
}

async function ortTime(bytes: Uint8Array, feeds: Record<string, ort.Tensor>): Promise<number> {
  const session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: threads, interOpNumThreads: 1, graphOptimizationLevel: 'all', logSeverityLevel: 3 });
  const ms = await median(async () => {
    const out = await session.run(feeds);
    for (const t of Object.values(out)) t.dispose();
  });
  await session.release();
  return ms;
}

/** One `MatMul` `[T·k, D] × [D, 2H]` with a constant weight: the experts' FLOPs at ONNX Runtime's plain rate. */
function plainMatMul(k: number): Uint8Array {
  const graph = new OnnxGraph('matmul');
  const a = graph.addInput('a', 'float32', [T * k, D]);
  const w = graph.addInitializer({ dtype: 'float32', shape: [D, 2 * H], data: Float32Array.from({ length: D * 2 * H }, (_, i) => Math.sin(i) / 32) });
  graph.node('MatMul', [a, w], {}, ['y']);
  graph.addOutput('y', 'float32', [T * k, 2 * H]);
  return encodeOnnxModel(graph);
}

const choice = await selectBackend({ prefer: ['wasm'], threads });
console.log(`tfjs: ${choice.reason}; onnxruntime-node intraOpNumThreads ${threads}`);
const rows: string[] = ['| E | k | tfjs-wasm moe.apply | ORT export (concat, default) | ORT export (scatterEach) | ORT plain MatMul, same FLOPs | export / MatMul | tfjs / export |', '|---:|---:|---:|---:|---:|---:|---:|---:|'];
for (const E of [8, 64]) {
  for (const k of [1, 2]) {
    const moe = new MixtureOfExperts({ router: new TopKRouter({ numExperts: E, k, seed: 1, kernelInitializer: 'glorotUniform' }), experts: new FeedForwardExperts({ numExperts: E, hiddenDim: H, seed: 3 }), capacity: { eval: 1.25 }, dropWarning: 1 });
    const x = tf.randomNormal([T, D], 0, 1, 'float32', 7);
    const tfjsMs = await median(() => {
      const { output, auxLosses, metrics } = moe.apply(x, { training: false });
      output.dataSync();
      tf.dispose([output, ...Object.values(auxLosses)]);
      metrics.dispose();
    });
    const feeds = { x: new ort.Tensor('float32', x.dataSync() as Float32Array, [T, D]) };
    const exported: Record<SparseCombine, number> = { concat: 0, scatterEach: 0 };
    for (const how of ['concat', 'scatterEach'] as const) exported[how] = await ortTime(exportMixtureOfExperts(moe, { numTokens: T, sparseCombine: how }), feeds);
    const matMulMs = await ortTime(plainMatMul(k), { a: new ort.Tensor('float32', Float32Array.from({ length: T * k * D }, (_, i) => Math.cos(i)), [T * k, D]) });
    const best = exported.concat;
    rows.push(`| ${E} | ${k} | ${tfjsMs.toFixed(1)} | ${exported.concat.toFixed(1)} | ${exported.scatterEach.toFixed(1)} | ${matMulMs.toFixed(1)} | ${(best / matMulMs).toFixed(2)}× | ${(tfjsMs / best).toFixed(1)}× |`);
    console.log(rows.at(-1));
    x.dispose();
    moe.dispose();
  }
}
console.log(rows.join('\n'));
