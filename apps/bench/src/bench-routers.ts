/**
 * The routers the benchmark's `routers` section times, each built for `E` experts and gate inputs of
 * width `D`, with the rows per token it sends to the experts (`k`: the limit it is compared with
 * multiplies exactly `k·T` rows).
 */
import type { Router } from '@moekit/core';
import { LinearTopKRouter } from '@moekit/core/testing';
import { BatchPriorityRouter } from '@moekit/router-batch-priority';
import { SwitchRouter } from '@moekit/router-switch';
import { TopKRouter } from '@moekit/router-topk';

/** One benchmarked router. */
export interface BenchRouter {
  /** Name in the table. */
  name: string;
  /** Expert rows per token (k for token choice). */
  k: number;
  /** Builds it for `E` experts over gate inputs of width `D`. */
  make: (numExperts: number, inputDim: number) => Router;
}

/** Every router of the section, in table order. */
export const benchRouters: BenchRouter[] = [
  { name: 'softmax top-1 (LinearTopKRouter)', k: 1, make: (E, D) => new LinearTopKRouter({ numExperts: E, inputDim: D, k: 1, seed: 2 }) },
  { name: 'Switch top-1', k: 1, make: (E, D) => new SwitchRouter({ numExperts: E, inputDim: D, seed: 2 }) },
  { name: 'Shazeer noisy top-2', k: 2, make: (E, D) => new TopKRouter({ numExperts: E, inputDim: D, k: 2, noise: 'shazeer', kernelInitializer: 'glorotUniform', seed: 2 }) },
  { name: 'V-MoE BPR top-2', k: 2, make: (E, D) => new BatchPriorityRouter({ router: new TopKRouter({ numExperts: E, inputDim: D, k: 2, noise: 'gaussian', seed: 2 }) }) },
];
