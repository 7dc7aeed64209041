/**
 * `@moekit/cost-model`: predicts the step time of an MoE layer's parallel layouts (data, expert, Tutel's
 * adaptive degree r, tensor-sliced experts) on a GPU cluster from its shapes, and recommends one.
 * Pure TypeScript; no TensorFlow.js.
 */
export { CostModelArgumentError } from './cost-model-error.js';
export { type Hardware, type Link, localGpus, ndmA100v4, nodeCount, validateHardware } from './hardware.js';
export { dispatchBytes, dispatchedRows, expertParameters, layerFlopsPerGpu, type MoELayerShape, validateShape } from './layer-shapes.js';
export { type AllToAllAlgorithm, allToAllTime, type CollectiveTime } from './all-to-all.js';
export { type RingCollective, ringCollectiveTime } from './ring-collectives.js';
export { type LayoutCost, layoutLabel, layoutStepTime, type ParallelLayout, shardedCount, tutelDegrees } from './parallel-layout.js';
export { type LayoutRecommendation, recommendLayout, tutelAutoUseModelParallel } from './recommend-layout.js';
export { type PublishedComparison, publishedComparisons } from './published-comparison.js';
