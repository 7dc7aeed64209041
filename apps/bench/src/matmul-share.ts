/**
 * `node apps/bench/dist/matmul-share.js [backend]`: the share of a moekit training step spent in
 * matMul kernels (tf.profile kernel times), grouped and padded, k = 1 and 2, at the cpu benchmark size.
 */
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '@moekit/platform';
import { moekitStrategy, type BenchConfig } from './strategies.js';

await selectBackend({ prefer: [(process.argv[2] ?? 'cpu') as 'cpu'] });
for (const k of [1, 2]) {
  const config: BenchConfig = { numTokens: 1024, dim: 256, hidden: 512, numExperts: 8, k, capacityFactor: 1.25 };
  for (const layout of ['grouped', 'padded'] as const) {
    const strategy = moekitStrategy(config, layout);
    tf.dispose(strategy.train());
    const samples: { wall: number; matMul: number }[] = [];
    for (let run = 0; run < 3; run++) {
      const start = performance.now();
      const info = await tf.profile(() => strategy.train());
      const wall = performance.now() - start;
      tf.dispose(info.result as tf.Tensor[]);
      let matMul = 0;
      for (const kernel of info.kernels) if (kernel.name === 'BatchMatMul') matMul += Number(await kernel.kernelTimeMs);
      samples.push({ wall, matMul });
    }
    samples.sort((a, b) => a.wall - b.wall);
    const { wall, matMul } = samples[1]!;
    console.log(`k=${k} ${layout}: step ${wall.toFixed(0)} ms, matMul ${matMul.toFixed(0)} ms = ${((100 * matMul) / wall).toFixed(1)} %, outside matMul ${(100 - (100 * matMul) / wall).toFixed(1)} %`);
    strategy.dispose();
  }
}
