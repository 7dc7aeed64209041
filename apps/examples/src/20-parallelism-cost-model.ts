/**
 * 20 · the parallelism cost model: predicts one MoE layer's step time under every layout Tutel and
 * DeepSpeed-MoE use (data, expert with a linear or 2DH all-to-all, Tutel's adaptive degree r) on Azure
 * NDm A100 v4 nodes, for two contrasting configurations, and prints the recommendation. Pure arithmetic:
 * `quick` changes nothing.
 */
import { type LayoutRecommendation, type MoELayerShape, ndmA100v4, recommendLayout } from '@moekit/cost-model';

function table(title: string, rec: LayoutRecommendation): string {
  const ms = (s: number) => (s * 1e3).toFixed(3);
  const rows = rec.ranked.slice(0, 4).map((c) => `| ${c.label} | ${ms(c.total)} | ${ms(c.compute)} | ${ms(c.allToAll)} | ${ms(c.parameterGather + c.gradientSync)} |`);
  return [`${title}`, '| layout | step ms | compute | all-to-all | gather + sync |', '|---|---|---|---|---|', ...rows, `recommended: ${rec.reason}`].join('\n');
}

/** Runs the example (the same at either size: no training happens). */
export async function run(_options: { quick: boolean }): Promise<void> {
  // Many small experts, one per GPU, across 256 nodes: the all-to-all dominates and 2DH pays off.
  const switchLike: MoELayerShape = { tokensPerGpu: 1024, modelDim: 1024, hiddenDim: 4096, numExperts: 2048, topK: 1, capacityFactor: 1.25 };
  // Few large experts, few tokens per GPU (small-batch training on 8 nodes): moving the tokens r times
  // beats gathering the experts; Tutel's r > 1 (tensor-sliced experts) wins.
  const bigExperts: MoELayerShape = { tokensPerGpu: 256, modelDim: 4096, hiddenDim: 16384, numExperts: 8, topK: 2, capacityFactor: 1 };
  console.log(table('A · 2,048 A100s, E = 2048 top-1, 1024 tokens/GPU, D = 1024, H = 4096 (training)', recommendLayout(switchLike, ndmA100v4(2048))));
  console.log('');
  console.log(table('B · 64 A100s, E = 8 top-2, 256 tokens/GPU, D = 4096, H = 16384 (training)', recommendLayout(bigExperts, ndmA100v4(64))));
}
