/**
 * `@moekit/router-topk`: softmax top-k routers — Shazeer et al. 2017 noisy top-k with its smooth load
 * estimator, V-MoE's gaussian noise, Gumbel selection, GShard's second-expert policies, and the
 * two-level hierarchical MoE.
 *
 * @packageDocumentation
 */
import './register.js';

export { TopKRouter, topKRouter, type TopKRouterArgs, type TopKNoise, type GateNormalization, type TopKRouterConfig } from './top-k-router.js';
export { type SecondExpertPolicy } from './second-expert-policy.js';
export { shazeerLoad } from './shazeer-load.js';
export { vmoeLoad } from './vmoe-load.js';
export { HierarchicalTopKRouter, type HierarchicalTopKRouterArgs, type HierarchicalTopKRouterConfig } from './hierarchical-top-k-router.js';
