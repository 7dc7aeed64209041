/**
 * The routers the benchmark's `routers` section times, each built for `E` experts and gate inputs of
 * width `D`, with the rows per token it sends to the experts (`k`: the limit it is compared with
 * multiplies exactly `k·T` rows).
 */
import { GatedRouter, LinearGate, type Router } from '@moekit/core';
import { LinearTopKRouter } from '@moekit/core/testing';
import { balancedAssignmentRouter, expertChoiceRouter, HashRouter, softMoERouter } from '@moekit/router-balanced';
import { BatchPriorityRouter } from '@moekit/router-batch-priority';
import { SwitchRouter } from '@moekit/router-switch';
import { CosineGate, TopKChoice, TopKRouter } from '@moekit/router-topk';

/** Soft MoE's tokens per group (a sequence of 256 tokens, or all when fewer): slots mix only their group's tokens. */
const SOFT_GROUP = 256;
const softGroup = (T: number) => Math.min(SOFT_GROUP, T);

/** One benchmarked router. */
export interface BenchRouter {
  /** Name in the table. */
  name: string;
  /** Expert rows per token (k for token choice). */
  k: number;
  /** Builds it for `E` experts over gate inputs of width `D`, for calls of `T` tokens. */
  make: (numExperts: number, inputDim: number, numTokens: number) => Router;
}

/** Every router of the section, in table order. */
export const benchRouters: BenchRouter[] = [
  { name: 'softmax top-1 (LinearTopKRouter)', k: 1, make: (E, D) => new LinearTopKRouter({ numExperts: E, inputDim: D, k: 1, seed: 2 }) },
  { name: 'Switch top-1', k: 1, make: (E, D) => new SwitchRouter({ numExperts: E, inputDim: D, seed: 2 }) },
  { name: 'Shazeer noisy top-2', k: 2, make: (E, D) => new TopKRouter({ numExperts: E, inputDim: D, k: 2, noise: 'shazeer', kernelInitializer: 'glorotUniform', seed: 2 }) },
  { name: 'V-MoE BPR top-2', k: 2, make: (E, D) => new BatchPriorityRouter({ router: new TopKRouter({ numExperts: E, inputDim: D, k: 2, noise: 'gaussian', seed: 2 }) }) },
  { name: 'X-MoE cosine top-1', k: 1, make: (E, D) => new GatedRouter({ gate: new CosineGate({ numOutputs: E, inputDim: D, seed: 2 }), algorithm: new TopKChoice({ numExperts: E, k: 1, gates: 'softmax' }) }) },
  { name: 'sigmoid top-1, aux-loss-free bias', k: 1, make: (E, D) => new GatedRouter({ gate: new LinearGate({ numOutputs: E, inputDim: D, seed: 2 }), algorithm: new TopKChoice({ numExperts: E, k: 1, gating: 'sigmoid', biasUpdateRate: 1e-3 }) }) },
  { name: 'expert choice c=1', k: 1, make: (E, D) => expertChoiceRouter({ numExperts: E, capacityFactor: 1, inputDim: D, seed: 2 }) },
  { name: `Soft MoE, groups of ${SOFT_GROUP}, E·S = group`, k: 1, make: (E, D, T) => softMoERouter({ numExperts: E, slotsPerExpert: Math.max(1, Math.floor(softGroup(T) / E)), groupSize: softGroup(T), inputDim: D, seed: 2 }) },
  { name: 'BASE balanced assignment', k: 1, make: (E, D) => balancedAssignmentRouter({ numExperts: E, inputDim: D, seed: 2 }) },
  { name: 'hash (SimHash buckets)', k: 1, make: (E, D) => new HashRouter({ numExperts: E, hashOf: 'featureBucket', bucketBits: 10, inputDim: D, seed: 2 }) },
];
