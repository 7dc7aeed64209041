/**
 * onnxruntime-node's matMul rate on `[1024,512]×[512,1024]`: a one-node MatMul model built with
 * `OnnxGraph` and `encodeOnnxModel`, run with intraOpNumThreads 2, so it stands beside numpy's,
 * torch's and tfjs-wasm's rates on the same product.
 */
import * as ort from 'onnxruntime-node';
import { OnnxGraph, encodeOnnxModel } from '@moekit/onnx';
import type { PeerMatMulRow } from './peer-report.js';

/**
 * Times `a·b` (a `[1024,512]` input, b `[512,1024]` a constant initializer, as an exported model's
 * weights are: ONNX Runtime pre-packs it) in ONNX Runtime: median of `runs` after 2 warm-ups.
 */
export async function onnxMatMulRate(runs = 15, threads = 2): Promise<PeerMatMulRow> {
  const [M, K, N] = [1024, 512, 1024];
  const graph = new OnnxGraph('matmul');
  const a = graph.addInput('a', 'float32', [M, K]);
  const b = graph.addInitializer({ dtype: 'float32', shape: [K, N], data: Float32Array.from({ length: K * N }, () => Math.random()) });
  graph.node('MatMul', [a, b], {}, ['c']);
  graph.addOutput('c', 'float32', [M, N]);
  const session = await ort.InferenceSession.create(encodeOnnxModel(graph), { intraOpNumThreads: threads, interOpNumThreads: 1, graphOptimizationLevel: 'all', logSeverityLevel: 3 });
  try {
    const feeds = {
      a: new ort.Tensor('float32', Float32Array.from({ length: M * K }, () => Math.random()), [M, K]),
    };
    const once = async () => {
      const t0 = performance.now();
      const out = await session.run(feeds);
      const ms = performance.now() - t0;
      for (const t of Object.values(out)) t.dispose();
      return ms;
    };
    for (let i = 0; i < 2; i++) await once();
    const times: number[] = [];
    for (let i = 0; i < runs; i++) times.push(await once());
    const ms = [...times].sort((x, y) => x - y)[Math.floor(runs / 2)]!;
    return { kind: 'matmul', library: `onnxruntime-node ${ort.env.versions.node ?? ''} (${threads} threads)`.replace('  ', ' '), ms, gflops: (2 * M * K * N) / ms / 1e6 };
  } finally {
    await session.release();
  }
}
